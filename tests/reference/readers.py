"""Small independent readers (GGUF v2/v3, safetensors, config.json) used by the
self-checks: they re-read what writers.py wrote, and load real GGUF files
(stories260K) into the oracle."""

from __future__ import annotations

import json
import os
import struct
from typing import Dict, Tuple

import numpy as np

from model import Config

_SCALARS = {0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4), 6: ("<f", 4),
            7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8)}
_GGML = {0: (np.float32, 4), 1: (np.float16, 2)}


class _Buf:
    def __init__(self, data: bytes):
        self.d, self.p = data, 0

    def take(self, fmt: str, n: int):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += n
        return v

    def string(self) -> str:
        n = self.take("<Q", 8)
        s = self.d[self.p:self.p + n].decode("utf-8")
        self.p += n
        return s

    def value(self, t: int):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take("<I", 4)
            n = self.take("<Q", 8)
            return [self.value(et) for _ in range(n)]
        fmt, n = _SCALARS[t]
        return self.take(fmt, n)


def read_gguf(path: str) -> Tuple[dict, Dict[str, np.ndarray], dict]:
    """Returns (metadata, tensors, info). tensors: numpy arrays with shape = reversed
    ggml dims (a Linear weight comes out [out, in]). info: version, alignment,
    data_offset, per-tensor (ggml dims, type, offset). F32 and F16 tensors only."""
    with open(path, "rb") as f:
        data = f.read()
    b = _Buf(data)
    assert data[:4] == b"GGUF", "not a GGUF file"
    b.p = 4
    version = b.take("<I", 4)
    assert version in (2, 3), f"GGUF version {version}"
    n_tensors = b.take("<Q", 8)
    n_kv = b.take("<Q", 8)
    meta = {}
    for _ in range(n_kv):
        k = b.string()
        t = b.take("<I", 4)
        assert k not in meta, f"duplicate key {k}"
        meta[k] = b.value(t)
    infos = []
    for _ in range(n_tensors):
        name = b.string()
        nd = b.take("<I", 4)
        dims = [b.take("<Q", 8) for _ in range(nd)]
        t = b.take("<I", 4)
        off = b.take("<Q", 8)
        infos.append((name, dims, t, off))
    align = int(meta.get("general.alignment", 32))
    base = b.p + (align - b.p % align) % align
    tensors, tinfo = {}, {}
    for name, dims, t, off in infos:
        assert off % align == 0, f"{name}: offset {off} not aligned to {align}"
        dt, sz = _GGML[t]
        n = int(np.prod(dims)) if dims else 1
        start = base + off
        assert start + n * sz <= len(data), f"{name}: data out of bounds"
        a = np.frombuffer(data, dtype=np.dtype(dt).newbyteorder("<"), count=n, offset=start)
        tensors[name] = a.reshape(list(reversed(dims))).copy()
        tinfo[name] = (dims, t, off)
    return meta, tensors, {"version": version, "alignment": align, "data_offset": base, "tensors": tinfo}


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack_from("<Q", data, 0)[0]
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": np.float32, "F16": np.float16}[h["dtype"]]
        b0, b1 = h["data_offsets"]
        a = np.frombuffer(data[base + b0:base + b1], dtype=np.dtype(dt).newbyteorder("<"))
        out[name] = a.reshape(h["shape"]).copy()
    return out


_GGUF_TO_HF = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.weight": "self_attn.k_proj.weight", "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def gguf_to_oracle(path: str) -> Tuple[Config, Dict[str, np.ndarray]]:
    """A dense llama / qwen2 / qwen3 GGUF as (Config, HF-named weights), weights used
    as stored: for arch llama the permuted q/k rows with GPT-J pairing."""
    meta, t, _ = read_gguf(path)
    a = meta["general.architecture"]
    assert a in ("llama", "qwen2", "qwen3"), a
    H = meta[f"{a}.embedding_length"]
    nh = meta[f"{a}.attention.head_count"]
    hd = meta.get(f"{a}.attention.key_length", H // nh)
    W = {}
    for name, arr in t.items():
        if name == "token_embd.weight":
            W["model.embed_tokens.weight"] = arr
        elif name == "output_norm.weight":
            W["model.norm.weight"] = arr
        elif name == "output.weight":
            W["lm_head.weight"] = arr
        else:
            _, l, rest = name.split(".", 2)
            W[f"model.layers.{l}.{_GGUF_TO_HF[rest]}"] = arr
    cfg = Config(
        vocab_size=W["model.embed_tokens.weight"].shape[0], hidden_size=H,
        n_layers=meta[f"{a}.block_count"], n_heads=nh,
        n_kv_heads=meta.get(f"{a}.attention.head_count_kv", nh), head_dim=hd,
        intermediate_size=meta[f"{a}.feed_forward_length"],
        rms_norm_eps=meta[f"{a}.attention.layer_norm_rms_epsilon"],
        rope_theta=meta.get(f"{a}.rope.freq_base", 10000.0),
        rope_pairing="gptj" if a == "llama" else "neox",
        qk_norm="model.layers.0.self_attn.q_norm.weight" in W,
        qkv_bias="model.layers.0.self_attn.q_proj.bias" in W,
        tie_embeddings="lm_head.weight" not in W,
        max_position_embeddings=meta.get(f"{a}.context_length", 2048),
    )
    return cfg, W


def hf_to_oracle(folder: str) -> Tuple[Config, Dict[str, np.ndarray]]:
    """A Hugging Face folder (config.json + model.safetensors) as (Config, weights):
    Llama / Qwen2 / Qwen3 / MiniMind (MiniMind2 and minimind-3 configs). NeoX pairing."""
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    W = read_safetensors(os.path.join(folder, "model.safetensors"))
    mt = c["model_type"]
    H, nh = c["hidden_size"], c["num_attention_heads"]
    has = lambda n: n in W
    cfg = Config(
        vocab_size=c["vocab_size"], hidden_size=H, n_layers=c["num_hidden_layers"], n_heads=nh,
        n_kv_heads=c.get("num_key_value_heads") or nh, head_dim=c.get("head_dim") or H // nh,
        intermediate_size=c["intermediate_size"], rms_norm_eps=c["rms_norm_eps"], rope_theta=c["rope_theta"],
        rope_pairing="neox", max_position_embeddings=c["max_position_embeddings"],
    )
    cfg.qk_norm = has("model.layers.0.self_attn.q_norm.weight")
    cfg.qkv_bias = has("model.layers.0.self_attn.q_proj.bias")
    assert cfg.qk_norm == (mt == "qwen3" or (mt == "minimind" and "n_routed_experts" not in c))
    assert cfg.qkv_bias == (mt == "qwen2")
    cfg.tie_embeddings = c.get("tie_word_embeddings", mt == "minimind")
    assert cfg.tie_embeddings == (not has("lm_head.weight"))
    rs = c.get("rope_scaling")
    if rs and (rs.get("type") or rs.get("rope_type")) == "yarn" and (mt != "minimind" or c.get("inference_rope_scaling")):
        cfg.yarn = {k: rs[k] for k in ("factor", "original_max_position_embeddings", "beta_fast", "beta_slow",
                                        "attention_factor")}
    if mt == "minimind" and c.get("use_moe"):
        if "n_routed_experts" in c:  # MiniMind2
            cfg.n_experts, cfg.n_shared_experts = c["n_routed_experts"], c.get("n_shared_experts", 1)
            cfg.moe_intermediate_size = c["intermediate_size"]
        else:  # minimind-3
            cfg.n_experts, cfg.n_shared_experts = c.get("num_experts", 4), 0
            cfg.moe_intermediate_size = c.get("moe_intermediate_size", c["intermediate_size"])
        cfg.top_k = c["num_experts_per_tok"]
        cfg.norm_topk_prob = c.get("norm_topk_prob", True)
    return cfg, W
