#!/usr/bin/python3
"""Regenerate every golden checkpoint and its expected logits into
tests/reference/golden/. Run with Debian's python (torch + numpy):

    /usr/bin/python3 tests/reference/generate.py

Deterministic: the same command gives the same bytes.
"""

from __future__ import annotations

import os
import shutil
import sys
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from model import Config, forward, greedy, hf_tensor_shapes, to_f64  # noqa: E402
from writers import BOS_ID, EOS_ID, PAD_ID, write_gguf_model, write_hf  # noqa: E402

GOLDEN = os.path.join(HERE, "golden")
N_GREEDY = 16
PROMPT_LEN = 7
MIN_MARGIN = 0.015      # top1 - top2 logit gap required at every greedy step, relative to the logit range
MIN_ROUTER_GAP = 0.05   # k-th minus (k+1)-th router logit, every token and layer
MIN_DISTINCT = 5        # distinct tokens among the greedy ones (no degenerate repetition)
VOCAB = 288             # 3 specials + 256 byte tokens + 29 merges

# name, HF kind, GGUF arch (None: HF only), config
MODELS = [
    # Llama: MQA-ish GQA (2 q heads per kv head), untied head. GGUF arch llama with
    # q/k rows permuted (GPT-J pairing); HF folder unpermuted (NeoX pairing).
    ("llama", "llama", "llama", Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=2, n_kv_heads=1, head_dim=16,
        intermediate_size=64, rms_norm_eps=1e-5, rope_theta=10000.0, tie_embeddings=False,
        max_position_embeddings=2048)),
    # Qwen2: q/k/v biases, tied embeddings, NeoX in both formats.
    ("qwen2", "qwen2", "qwen2", Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=8,
        intermediate_size=64, rms_norm_eps=1e-6, rope_theta=1e6, qkv_bias=True, tie_embeddings=True,
        max_position_embeddings=4096)),
    # Qwen3: q/k norm, head_dim (16) != hidden / heads (8), untied, NeoX.
    ("qwen3", "qwen3", "qwen3", Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16,
        intermediate_size=64, rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True, tie_embeddings=False,
        max_position_embeddings=4096)),
    # minimind-3 scaled down: q/k norm, head_dim 16 != 48/6, GQA ratio 3, tied, eps 1e-6, theta 1e6.
    ("minimind3", "minimind3", None, Config(
        vocab_size=VOCAB, hidden_size=48, n_layers=2, n_heads=6, n_kv_heads=2, head_dim=16,
        intermediate_size=64, rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True, tie_embeddings=True,
        max_position_embeddings=32768)),
    # minimind-3 with YaRN (inference_rope_scaling): original 256 < max_position_embeddings 4096,
    # so it is active (MiniMind's rule); head_dim 16 gives ramp = [0, 1/3, 2/3, 1, 1, 1, 1, 1].
    ("minimind3_yarn", "minimind3", None, Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16,
        intermediate_size=64, rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True, tie_embeddings=True,
        max_position_embeddings=4096,
        yarn={"beta_fast": 32, "beta_slow": 1, "factor": 16, "original_max_position_embeddings": 256,
              "attention_factor": 1.0})),
    # MiniMind2 MoE scaled down: 4 routed experts, top-2, renormalised, 1 shared expert, no q/k norm,
    # GQA ratio 4, tied, eps 1e-5.
    ("minimind2_moe", "minimind2", None, Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=4, n_kv_heads=1, head_dim=8,
        intermediate_size=32, rms_norm_eps=1e-5, rope_theta=1e6, tie_embeddings=True,
        max_position_embeddings=32768,
        n_experts=4, top_k=2, norm_topk_prob=True, n_shared_experts=1, moe_intermediate_size=32)),
    # minimind-3 MoE (Qwen3-MoE style): 4 experts, top-1, renormalised, no shared expert, q/k norm.
    ("minimind3_moe", "minimind3", None, Config(
        vocab_size=VOCAB, hidden_size=32, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16,
        intermediate_size=32, rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True, tie_embeddings=True,
        max_position_embeddings=32768,
        n_experts=4, top_k=1, norm_topk_prob=True, n_shared_experts=0, moe_intermediate_size=32)),
]


def random_weights(cfg: Config, seed: int):
    """float32 weights, HF names. Scales keep activations O(1) and logits spread out."""
    g = torch.Generator().manual_seed(seed)
    W = {}
    for name, shape in hf_tensor_shapes(cfg).items():
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            t = 1.0 + 0.2 * torch.randn(shape, generator=g, dtype=torch.float32)
        elif name.endswith(".bias"):
            t = 0.5 * torch.randn(shape, generator=g, dtype=torch.float32)
        elif name == "model.embed_tokens.weight":
            t = torch.randn(shape, generator=g, dtype=torch.float32)
        elif name == "lm_head.weight":
            t = 3.0 / shape[1] ** 0.5 * torch.randn(shape, generator=g, dtype=torch.float32)
        elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
            # writes into the residual stream: larger, so that the layers (not the token's own
            # embedding) decide the next token, also with tied embeddings
            t = 6.0 * torch.randn(shape, generator=g, dtype=torch.float32) / shape[1] ** 0.5
        elif name.endswith("mlp.gate.weight"):  # MoE router
            t = 2.0 * torch.randn(shape, generator=g, dtype=torch.float32) / shape[1] ** 0.5
        else:  # Linear [out, in]
            t = torch.randn(shape, generator=g, dtype=torch.float32) / shape[1] ** 0.5
        W[name] = t.numpy()
    prompt = [BOS_ID] + torch.randint(3, cfg.vocab_size, (PROMPT_LEN - 1,), generator=g).tolist()
    return W, prompt


def f16_round(W):
    return {k: v.astype(np.float16).astype(np.float32) for k, v in W.items()}


def evaluate(cfg: Config, W32, prompt):
    """Oracle run: last-prompt-position logits, greedy tokens, margins, final logits, router gap."""
    W = to_f64(W32)
    logits = forward(cfg, W, prompt)[-1]
    toks, margins = greedy(cfg, W, prompt, N_GREEDY)
    seq = prompt + toks
    router = []
    full = forward(cfg, W, seq[:-1], router_log=router)
    assert torch.equal(full[len(prompt) - 1], logits) or torch.allclose(full[len(prompt) - 1], logits, rtol=0, atol=1e-12)
    gap = float("inf")
    for rl in router:
        s = torch.sort(rl, dim=-1, descending=True).values
        gap = min(gap, float((s[:, cfg.top_k - 1] - s[:, cfg.top_k]).min()))
    return {"logits": logits.numpy(), "greedy": toks, "margins": margins, "final_logits": full[-1].numpy(),
            "router_gap": gap}


def acceptable(r) -> bool:
    return (min(r["margins"]) >= MIN_MARGIN * float(np.ptp(r["logits"])) and r["router_gap"] >= MIN_ROUTER_GAP
            and len(set(r["greedy"])) >= MIN_DISTINCT
            and not any(t in (BOS_ID, EOS_ID, PAD_ID) for t in r["greedy"]))


def fmt(xs):
    return " ".join("%.9g" % float(x) for x in xs)


def write_expected(path, name, dtype, seed, checkpoints, cfg, prompt, r):
    lo, hi = float(np.min(r["logits"])), float(np.max(r["logits"]))
    with open(path, "w") as f:
        f.write("# vkmind oracle golden data: written by tests/reference/generate.py, do not edit.\n")
        f.write("# Format: see tests/reference/README.md. Unknown keys are to be ignored.\n")
        f.write(f"name: {name}\n")
        f.write(f"dtype: {dtype}\n")
        f.write(f"checkpoints: {' '.join(checkpoints)}\n")
        f.write(f"seed: {seed}\n")
        f.write(f"vocab: {cfg.vocab_size}\n")
        f.write(f"prompt: {' '.join(map(str, prompt))}\n")
        f.write(f"greedy: {' '.join(map(str, r['greedy']))}\n")
        f.write(f"logit_range: {hi - lo:.9g}\n")
        f.write(f"margins: {fmt(r['margins'])}\n")
        if cfg.n_experts:
            f.write(f"router_gap: {r['router_gap']:.9g}\n")
        f.write(f"logits: {fmt(r['logits'])}\n")
        f.write(f"final_logits: {fmt(r['final_logits'])}\n")


def main():
    if os.path.isdir(GOLDEN):
        shutil.rmtree(GOLDEN)
    os.makedirs(GOLDEN)
    manifest = []
    for name, kind, arch, cfg in MODELS:
        base = zlib.crc32(name.encode()) % 100000
        for attempt in range(3000):
            seed = base + attempt
            W32, prompt = random_weights(cfg, seed)
            W16 = f16_round(W32)
            r32 = evaluate(cfg, W32, prompt)
            if not acceptable(r32):
                continue
            r16 = evaluate(cfg, W16, prompt)
            if acceptable(r16):
                break
        else:
            raise SystemExit(f"{name}: no seed meets the margins")
        for dtype, W, r in (("f32", W32, r32), ("f16", W16, r16)):
            d = f"{name}_{dtype}"
            folder = os.path.join(GOLDEN, d)
            os.makedirs(folder)
            cks = ["hf"]
            write_hf(os.path.join(folder, "hf"), kind, cfg, W, f16=(dtype == "f16"))
            if arch:
                write_gguf_model(os.path.join(folder, "model.gguf"), arch, cfg, W, f16=(dtype == "f16"),
                                 name=f"vkmind-oracle-{d}")
                cks.append("model.gguf")
            write_expected(os.path.join(folder, "expected.txt"), d, dtype, seed, cks, cfg, prompt, r)
            size = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(folder) for fn in fns)
            manifest.append(f"{d} {dtype} {' '.join(cks)}")
            print(f"{d:22s} tries {attempt + 1:4d} seed {seed:6d}  {size / 1024:6.1f} KiB  range {np.ptp(r['logits']):5.2f}"
                  f"  min margin {min(r['margins']):.3f}"
                  + (f"  router gap {r['router_gap']:.3f}" if cfg.n_experts else "")
                  + f"  greedy {r['greedy']}")
    with open(os.path.join(GOLDEN, "MANIFEST.txt"), "w") as f:
        f.write("# <directory> <dtype> <checkpoints (relative to the directory)...>; written by generate.py\n")
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main()
