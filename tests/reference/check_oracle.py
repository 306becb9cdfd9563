#!/usr/bin/python3
"""Self-checks of the oracle and of the committed golden files.

    /usr/bin/python3 tests/reference/check_oracle.py

1. Every checkpoint under golden/ is re-read from disk with readers.py (our own
   GGUF and safetensors readers), run through the oracle, and must reproduce its
   expected.txt (logits, final_logits, greedy tokens). For a Llama case this runs
   the GGUF (q/k rows permuted, GPT-J pairing) and the HF folder (NeoX) and shows
   they agree; with the pairing deliberately wrong they must not.
2. A second, independent implementation (numpy, token-by-token decoding with a KV
   cache, RoPE as complex multiplication, MoE as a dense masked mixture) must
   agree with the oracle on every checkpoint.
3. stories260K (../shared/models/stories260K, a real llama GGUF): the oracle must
   match reference_logits.txt (cases A and B) and the greedy ids of
   reference_greedy.txt. Skipped when the file is absent.
4. Hugging Face `transformers`, if installed, on the llama/qwen2/qwen3 folders.
   (Debian's python has no transformers: normally skipped.)
Exit status 0 when every check that ran passed.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import Config, forward, rope_inv_freq, to_f64  # noqa: E402
from readers import gguf_to_oracle, hf_to_oracle, read_gguf  # noqa: E402
from writers import llama_permute, make_tokenizer  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
STORIES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "models", "stories260K"))
FAILS = []


def check(ok: bool, what: str):
    print(("  ok   " if ok else "  FAIL ") + what)
    if not ok:
        FAILS.append(what)


def parse_expected(path: str) -> dict:
    out = {}
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        k, _, v = line.partition(": ")
        out[k] = v
    for k in ("prompt", "greedy"):
        out[k] = [int(x) for x in out[k].split()]
    for k in ("logits", "final_logits", "margins"):
        out[k] = np.array([float(x) for x in out[k].split()])
    out["checkpoints"] = out["checkpoints"].split()
    return out


# ---------------------------------------------------------------- independent numpy path

def alt_logits(cfg: Config, W: dict, tokens: list) -> np.ndarray:
    """Token-by-token decode with a KV cache, in numpy float64. Returns logits [T, V]."""
    W = {k: np.asarray(v, dtype=np.float64) for k, v in W.items()}
    D, nh, nkv = cfg.head_dim, cfg.n_heads, cfg.n_kv_heads
    inv = cfg.rope_theta ** (-np.arange(0, D, 2) / D)
    af = 1.0
    if cfg.yarn is not None and cfg.max_position_embeddings > cfg.yarn["original_max_position_embeddings"]:
        y = cfg.yarn
        lo_hi = [D * np.log(y["original_max_position_embeddings"] / (b * 2 * np.pi)) / (2 * np.log(cfg.rope_theta))
                 for b in (y["beta_fast"], y["beta_slow"])]
        lo, hi = max(np.floor(lo_hi[0]), 0), min(np.ceil(lo_hi[1]), D // 2 - 1)
        ramp = np.clip((np.arange(D // 2) - lo) / max(hi - lo, 0.001), 0, 1)
        inv = inv * (1 - ramp) + inv * ramp / y["factor"]
        af = y["attention_factor"]

    def rms(x, w):
        return x / np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + cfg.rms_norm_eps) * w

    def rope(x, pos):  # x [heads, D]; complex multiplication
        rot = af * np.exp(1j * pos * inv)
        if cfg.rope_pairing == "gptj":
            z = (x[:, 0::2] + 1j * x[:, 1::2]) * rot
            y = np.empty_like(x)
            y[:, 0::2], y[:, 1::2] = z.real, z.imag
            return y
        z = (x[:, :D // 2] + 1j * x[:, D // 2:]) * rot
        return np.concatenate([z.real, z.imag], axis=1)

    def ffn(x, p):
        g, u = W[p + "gate_proj.weight"] @ x, W[p + "up_proj.weight"] @ x
        return W[p + "down_proj.weight"] @ (g / (1 + np.exp(-g)) * u)

    cache_k = [[] for _ in range(cfg.n_layers)]
    cache_v = [[] for _ in range(cfg.n_layers)]
    head = W["model.embed_tokens.weight"] if cfg.tie_embeddings else W["lm_head.weight"]
    out = []
    for pos, tok in enumerate(tokens):
        x = W["model.embed_tokens.weight"][tok].copy()
        for l in range(cfg.n_layers):
            p = f"model.layers.{l}."
            a = p + "self_attn."
            h = rms(x, W[p + "input_layernorm.weight"])
            q = W[a + "q_proj.weight"] @ h + W.get(a + "q_proj.bias", 0.0)
            k = W[a + "k_proj.weight"] @ h + W.get(a + "k_proj.bias", 0.0)
            v = W[a + "v_proj.weight"] @ h + W.get(a + "v_proj.bias", 0.0)
            q, k, v = q.reshape(nh, D), k.reshape(nkv, D), v.reshape(nkv, D)
            if cfg.qk_norm:
                q, k = rms(q, W[a + "q_norm.weight"]), rms(k, W[a + "k_norm.weight"])
            q, k = rope(q, pos), rope(k, pos)
            cache_k[l].append(k)
            cache_v[l].append(v)
            K, V = np.stack(cache_k[l]), np.stack(cache_v[l])      # [t, nkv, D]
            kv_of_head = np.arange(nh) * nkv // nh                 # query head h -> kv head h // n_rep
            s = np.einsum("hd,thd->ht", q, K[:, kv_of_head, :]) / math.sqrt(D)
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            o = np.einsum("ht,thd->hd", s, V[:, kv_of_head, :]).reshape(-1)
            x = x + W[a + "o_proj.weight"] @ o
            h = rms(x, W[p + "post_attention_layernorm.weight"])
            if cfg.n_experts == 0:
                x = x + ffn(h, p + "mlp.")
            else:
                r = W[p + "mlp.gate.weight"] @ h
                pr = np.exp(r - r.max())
                pr /= pr.sum()
                sel = np.argsort(-pr, kind="stable")[:cfg.top_k]
                wts = np.zeros(cfg.n_experts)
                wts[sel] = pr[sel]
                if cfg.norm_topk_prob:
                    wts /= wts.sum()
                all_e = np.stack([ffn(h, p + f"mlp.experts.{e}.") for e in range(cfg.n_experts)])  # dense
                y = wts @ all_e
                for e in range(cfg.n_shared_experts):
                    y = y + ffn(h, p + f"mlp.shared_experts.{e}.")
                x = x + y
        out.append(head @ rms(x, W["model.norm.weight"]))
    return np.stack(out)


def greedy_ids(cfg, W64, prompt, n):
    seq = list(prompt)
    for _ in range(n):
        seq.append(int(torch.argmax(forward(cfg, W64, seq)[-1])))
    return seq[len(prompt):]


# ---------------------------------------------------------------- checks

def check_gguf_file(path: str, hf_weights: dict, hf_cfg: Config):
    meta, tensors, info = read_gguf(path)
    arch = meta["general.architecture"]
    check(info["version"] == 3 and info["alignment"] == 32 and info["data_offset"] % 32 == 0,
          f"{path}: GGUF v3, alignment 32, data offset {info['data_offset']}")
    need = ["embedding_length", "block_count", "feed_forward_length", "attention.head_count",
            "attention.head_count_kv", "attention.layer_norm_rms_epsilon", "rope.freq_base", "context_length",
            "rope.dimension_count"]
    check(all(f"{arch}.{k}" in meta for k in need), f"{path}: {arch}.* hyperparameters present")
    toks = meta["tokenizer.ggml.tokens"]
    check(len(toks) == hf_cfg.vocab_size == len(meta["tokenizer.ggml.token_type"])
          and meta["tokenizer.ggml.bos_token_id"] == 1 and meta["tokenizer.ggml.eos_token_id"] == 2,
          f"{path}: tokenizer ({meta['tokenizer.ggml.model']}, {len(toks)} tokens) matches vocab_size")
    ok = True
    for name, (dims, t, _) in info["tensors"].items():
        ok &= (t == 0) == (len(dims) == 1 or meta["general.file_type"] == 0)
    check(ok, f"{path}: F16 for matrices / F32 for 1-D (f16 file) or all F32")
    # tensor by tensor against the HF file; q/k un-permuted for arch llama
    _, W = gguf_to_oracle(path)
    ok = set(W) == set(hf_weights)
    for k, v in W.items():
        ref = np.asarray(hf_weights[k], dtype=np.float64)
        if arch == "llama" and k.endswith("q_proj.weight"):
            ref = llama_permute(ref, hf_cfg.n_heads)
        elif arch == "llama" and k.endswith("k_proj.weight"):
            ref = llama_permute(ref, hf_cfg.n_kv_heads)
        ok &= ref.shape == v.shape and np.array_equal(ref, v.astype(np.float64))
    check(ok, f"{path}: every tensor equals the HF tensor" + (" (q/k rows permuted)" if arch == "llama" else ""))


def check_case(d: str):
    folder = os.path.join(GOLDEN, d)
    e = parse_expected(os.path.join(folder, "expected.txt"))
    print(f"{d}: {' + '.join(e['checkpoints'])}")
    rng = float(e["logit_range"])
    hf_cfg, hf_W = hf_to_oracle(os.path.join(folder, "hf"))
    tj = json.load(open(os.path.join(folder, "hf", "tokenizer.json"), encoding="utf-8"))
    toks, merges = make_tokenizer(hf_cfg.vocab_size)
    check(len(tj["model"]["vocab"]) == hf_cfg.vocab_size and tj["model"]["merges"] == merges
          and all(a + b in tj["model"]["vocab"] for a, b in (m.split(" ") for m in merges)),
          "hf/tokenizer.json: vocab_size entries, every merge result in the vocabulary")
    for ck in e["checkpoints"]:
        path = os.path.join(folder, ck)
        if ck.endswith(".gguf"):
            check_gguf_file(path, hf_W, hf_cfg)
            cfg, W = gguf_to_oracle(path)
        else:
            cfg, W = hf_cfg, hf_W
        W64 = to_f64(W)
        seq = e["prompt"] + e["greedy"][:-1]
        lg = forward(cfg, W64, seq)
        d0 = float(np.abs(lg[len(e["prompt"]) - 1].numpy() - e["logits"]).max())
        d1 = float(np.abs(lg[-1].numpy() - e["final_logits"]).max())
        check(d0 <= 1e-6 * rng and d1 <= 1e-6 * rng,
              f"{ck} ({cfg.rope_pairing}): logits vs expected max abs diff {d0:.2e}, final_logits {d1:.2e} "
              f"(range {rng:.3g})")
        g = greedy_ids(cfg, W64, e["prompt"], len(e["greedy"]))
        check(g == e["greedy"], f"{ck}: 16 greedy tokens identical")
        alt = alt_logits(cfg, W, seq)
        da = float(np.abs(alt - lg.numpy()).max())
        check(da <= 1e-9 * rng, f"{ck}: independent numpy KV-cache path agrees, max abs diff {da:.2e}")
        if ck.endswith(".gguf") and cfg.rope_pairing == "gptj":
            wrong = Config(**{**cfg.__dict__, "rope_pairing": "neox"})
            dw = float(np.abs(forward(wrong, W64, seq)[-1].numpy() - e["final_logits"]).max())
            check(dw > 1e-2 * rng, f"{ck}: with NeoX pairing (wrong for permuted q/k) logits differ by {dw:.3g}")
    if hf_cfg.yarn is not None:
        plain = Config(**{**hf_cfg.__dict__, "yarn": None})
        ramp = (rope_inv_freq(plain) / rope_inv_freq(hf_cfg)).numpy()
        dy = float(np.abs(forward(plain, to_f64(hf_W), e["prompt"])[-1].numpy() - e["logits"]).max())
        check(dy > 1e-2 * rng, f"YaRN is active: inv_freq divided by {np.round(ramp, 3).tolist()}; "
                               f"without it logits differ by {dy:.3g}")


def check_stories():
    gg = os.path.join(STORIES, "stories260K.gguf")
    if not os.path.exists(gg):
        print(f"stories260K: {gg} absent, skipped")
        return
    print("stories260K (real llama GGUF, GPT-J pairing):")
    cfg, W = gguf_to_oracle(gg)
    W64 = to_f64(W)
    ref = {}
    for line in open(os.path.join(STORIES, "reference_logits.txt")):
        if line[:2] in ("A ", "B "):
            p = line.split()
            ref[p[0]] = np.array([float(x) for x in p[1:]])
    cases = {"A": [1], "B": [1, 403, 407, 261, 378, 432, 383, 286, 261, 400, 428]}
    for c, toks in cases.items():
        diff = float(np.abs(forward(cfg, W64, toks)[-1].numpy() - ref[c]).max())
        check(diff <= 2e-6, f"case {c}: max abs diff vs reference_logits.txt {diff:.2e} (file has 6 decimals)")
    text = open(os.path.join(STORIES, "reference_greedy.txt")).read()
    m = re.search(r"generated token ids[^\n]*\n\[([0-9, ]+)\]", text)
    if m:
        want = [int(x) for x in m.group(1).split(",")]
        got = greedy_ids(cfg, W64, [1], len(want))
        check(got == want, f"greedy from BOS: first {len(want)} ids equal reference_greedy.txt")


def check_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        print("transformers: not installed, skipped")
        return
    from transformers import AutoModelForCausalLM
    for d in sorted(os.listdir(GOLDEN)):
        if not d.endswith("_f32") or not d.split("_")[0] in ("llama", "qwen2", "qwen3"):
            continue
        e = parse_expected(os.path.join(GOLDEN, d, "expected.txt"))
        m = AutoModelForCausalLM.from_pretrained(os.path.join(GOLDEN, d, "hf"), torch_dtype=torch.float64)
        with torch.no_grad():
            lg = m(torch.tensor([e["prompt"]])).logits[0, -1].numpy()
        diff = float(np.abs(lg - e["logits"]).max())
        check(diff <= 1e-6 * float(e["logit_range"]), f"transformers {d}: max abs diff {diff:.2e}")


def main():
    manifest = [l.split() for l in open(os.path.join(GOLDEN, "MANIFEST.txt")) if l.strip() and l[0] != "#"]
    for row in manifest:
        check_case(row[0])
    check_stories()
    check_transformers()
    print(f"\n{len(FAILS)} failure(s)" if FAILS else "\nall checks passed")
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
