"""The vkmind correctness oracle: a small decoder-only transformer.

Written from the formulas in design.md (shared/design.md, "Model families and
their tensors"), not from any runtime code. Everything is computed in float64
with plain torch ops, one full forward pass over the whole sequence per call
(no KV cache: the simplest thing that can be right).

Weights are a dict keyed by Hugging Face tensor names (PyTorch Linear weight
is [out, in]); see `hf_tensor_shapes`. The config says how to use them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Optional

import torch

DT = torch.float64


@dataclasses.dataclass
class Config:
    vocab_size: int
    hidden_size: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    intermediate_size: int
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    # "neox": element i rotates with i + d/2 (rotate_half; HF files, GGUF qwen2/qwen3)
    # "gptj": element 2i rotates with 2i+1 (GGUF arch llama, q/k rows permuted)
    rope_pairing: str = "neox"
    qk_norm: bool = False          # per-head RMSNorm over head_dim of q and k, before RoPE
    qkv_bias: bool = False         # Qwen2: q/k/v projections carry biases
    tie_embeddings: bool = False   # LM head = token embedding
    max_position_embeddings: int = 2048
    # YaRN, MiniMind flavour (design.md). dict with factor, original_max_position_embeddings,
    # beta_fast, beta_slow, attention_factor; applied when max_position_embeddings / orig > 1.
    yarn: Optional[dict] = None
    # MoE (n_experts == 0: dense SwiGLU FFN of intermediate_size)
    n_experts: int = 0
    top_k: int = 0
    norm_topk_prob: bool = False
    n_shared_experts: int = 0
    moe_intermediate_size: int = 0  # routed and shared experts

    @property
    def n_rep(self) -> int:
        assert self.n_heads % self.n_kv_heads == 0
        return self.n_heads // self.n_kv_heads


def hf_tensor_shapes(cfg: Config) -> Dict[str, tuple]:
    """Every tensor of the model, HF names, PyTorch shapes ([out, in] for Linear)."""
    H, D = cfg.hidden_size, cfg.head_dim
    s = {"model.embed_tokens.weight": (cfg.vocab_size, H)}
    for l in range(cfg.n_layers):
        p = f"model.layers.{l}."
        s[p + "input_layernorm.weight"] = (H,)
        s[p + "self_attn.q_proj.weight"] = (cfg.n_heads * D, H)
        s[p + "self_attn.k_proj.weight"] = (cfg.n_kv_heads * D, H)
        s[p + "self_attn.v_proj.weight"] = (cfg.n_kv_heads * D, H)
        if cfg.qkv_bias:
            s[p + "self_attn.q_proj.bias"] = (cfg.n_heads * D,)
            s[p + "self_attn.k_proj.bias"] = (cfg.n_kv_heads * D,)
            s[p + "self_attn.v_proj.bias"] = (cfg.n_kv_heads * D,)
        s[p + "self_attn.o_proj.weight"] = (H, cfg.n_heads * D)
        if cfg.qk_norm:
            s[p + "self_attn.q_norm.weight"] = (D,)
            s[p + "self_attn.k_norm.weight"] = (D,)
        s[p + "post_attention_layernorm.weight"] = (H,)
        if cfg.n_experts == 0:
            F = cfg.intermediate_size
            s[p + "mlp.gate_proj.weight"] = (F, H)
            s[p + "mlp.up_proj.weight"] = (F, H)
            s[p + "mlp.down_proj.weight"] = (H, F)
        else:
            F = cfg.moe_intermediate_size
            s[p + "mlp.gate.weight"] = (cfg.n_experts, H)
            for e in range(cfg.n_experts):
                q = p + f"mlp.experts.{e}."
                s[q + "gate_proj.weight"] = (F, H)
                s[q + "up_proj.weight"] = (F, H)
                s[q + "down_proj.weight"] = (H, F)
            for e in range(cfg.n_shared_experts):
                q = p + f"mlp.shared_experts.{e}."
                s[q + "gate_proj.weight"] = (F, H)
                s[q + "up_proj.weight"] = (F, H)
                s[q + "down_proj.weight"] = (H, F)
    s["model.norm.weight"] = (H,)
    if not cfg.tie_embeddings:
        s["lm_head.weight"] = (cfg.vocab_size, H)
    return s


# ---------------------------------------------------------------- the ops

def rmsnorm(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    """y = x * rsqrt(mean(x^2) + eps) * w, over the last dimension."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def linear(x: torch.Tensor, w: torch.Tensor, b: Optional[torch.Tensor] = None) -> torch.Tensor:
    y = x @ w.T
    return y + b if b is not None else y


def silu(x: torch.Tensor) -> torch.Tensor:
    return x / (1.0 + torch.exp(-x))


def rope_inv_freq(cfg: Config) -> torch.Tensor:
    """inv_freq[i] = theta^(-2i/d), i = 0..d/2-1, with MiniMind's YaRN when active."""
    d = cfg.head_dim
    i = torch.arange(d // 2, dtype=DT)
    inv_freq = cfg.rope_theta ** (-(2.0 * i) / d)
    if yarn_active(cfg):
        y = cfg.yarn
        orig = y["original_max_position_embeddings"]
        factor = y["factor"]
        theta = cfg.rope_theta

        def inv_dim(b):
            return d * math.log(orig / (b * 2 * math.pi)) / (2 * math.log(theta))

        low = max(math.floor(inv_dim(y["beta_fast"])), 0)
        high = min(math.ceil(inv_dim(y["beta_slow"])), d // 2 - 1)
        ramp = torch.clamp((i - low) / max(high - low, 0.001), 0.0, 1.0)
        inv_freq = inv_freq * ((1.0 - ramp) + ramp / factor)
    return inv_freq


def yarn_active(cfg: Config) -> bool:
    return cfg.yarn is not None and cfg.max_position_embeddings / cfg.yarn["original_max_position_embeddings"] > 1.0


def rope_cos_sin(cfg: Config, positions: torch.Tensor):
    """cos/sin of shape [T, d/2] (angle = pos * inv_freq[i]), times attention_factor under YaRN."""
    ang = positions.to(DT)[:, None] * rope_inv_freq(cfg)[None, :]
    af = cfg.yarn.get("attention_factor", 1.0) if yarn_active(cfg) else 1.0
    return torch.cos(ang) * af, torch.sin(ang) * af


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, pairing: str) -> torch.Tensor:
    """x: [T, n_heads, d]; cos/sin: [T, d/2]."""
    d = x.shape[-1]
    c = cos[:, None, :]
    s = sin[:, None, :]
    if pairing == "neox":
        # x' = x*cos + rotate_half(x)*sin, cos/sin duplicated over both halves, rotate_half = [-x2, x1]
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        c2 = torch.cat([c, c], dim=-1)
        s2 = torch.cat([s, s], dim=-1)
        return x * c2 + torch.cat([-x2, x1], dim=-1) * s2
    if pairing == "gptj":
        # pair (2i, 2i+1) rotated by angle i
        xe, xo = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = xe * c - xo * s
        out[..., 1::2] = xe * s + xo * c
        return out
    raise ValueError(pairing)


def attention(q, k, v, n_rep: int, head_dim: int) -> torch.Tensor:
    """Causal GQA. q: [T, Hq, d]; k, v: [T, Hkv, d]. KV head j serves query heads
    j*n_rep .. j*n_rep+n_rep-1. Returns [T, Hq*d]."""
    T, Hq, d = q.shape
    out = torch.empty(T, Hq, d, dtype=DT)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)  # key position > query position
    scale = 1.0 / math.sqrt(head_dim)
    for h in range(Hq):
        j = h // n_rep
        scores = (q[:, h, :] @ k[:, j, :].T) * scale           # [Tq, Tk]
        scores = scores.masked_fill(mask, float("-inf"))
        p = torch.softmax(scores, dim=-1)
        out[:, h, :] = p @ v[:, j, :]
    return out.reshape(T, Hq * d)


def swiglu(x, w_gate, w_up, w_down):
    return linear(silu(linear(x, w_gate)) * linear(x, w_up), w_down)


def moe(x: torch.Tensor, W: Dict[str, torch.Tensor], p: str, cfg: Config) -> torch.Tensor:
    """router softmax over E -> top-k -> optional renormalise -> weighted experts (+ shared experts)."""
    T = x.shape[0]
    probs = torch.softmax(linear(x, W[p + "mlp.gate.weight"]), dim=-1)  # [T, E]
    topw, topi = torch.topk(probs, cfg.top_k, dim=-1)
    if cfg.norm_topk_prob:
        topw = topw / topw.sum(dim=-1, keepdim=True)
    y = torch.zeros_like(x)
    for t in range(T):
        for r in range(cfg.top_k):
            e = int(topi[t, r])
            q = p + f"mlp.experts.{e}."
            y[t] += topw[t, r] * swiglu(x[t:t + 1], W[q + "gate_proj.weight"], W[q + "up_proj.weight"],
                                        W[q + "down_proj.weight"])[0]
    for e in range(cfg.n_shared_experts):
        q = p + f"mlp.shared_experts.{e}."
        y = y + swiglu(x, W[q + "gate_proj.weight"], W[q + "up_proj.weight"], W[q + "down_proj.weight"])
    return y


# ---------------------------------------------------------------- forward

def to_f64(weights: Dict[str, "object"]) -> Dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v).to(DT) for k, v in weights.items()}


def forward(cfg: Config, W: Dict[str, torch.Tensor], tokens: List[int], router_log: Optional[list] = None) -> torch.Tensor:
    """Logits [T, vocab] (float64) for tokens at positions 0..T-1.
    W: float64 tensors keyed by HF names (to_f64)."""
    T = len(tokens)
    D = cfg.head_dim
    x = W["model.embed_tokens.weight"][torch.tensor(tokens, dtype=torch.long)].clone()  # [T, H]
    cos, sin = rope_cos_sin(cfg, torch.arange(T))
    eps = cfg.rms_norm_eps
    for l in range(cfg.n_layers):
        p = f"model.layers.{l}."
        a = p + "self_attn."
        h = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        q = linear(h, W[a + "q_proj.weight"], W.get(a + "q_proj.bias")).reshape(T, cfg.n_heads, D)
        k = linear(h, W[a + "k_proj.weight"], W.get(a + "k_proj.bias")).reshape(T, cfg.n_kv_heads, D)
        v = linear(h, W[a + "v_proj.weight"], W.get(a + "v_proj.bias")).reshape(T, cfg.n_kv_heads, D)
        if cfg.qk_norm:
            q = rmsnorm(q, W[a + "q_norm.weight"], eps)
            k = rmsnorm(k, W[a + "k_norm.weight"], eps)
        q = apply_rope(q, cos, sin, cfg.rope_pairing)
        k = apply_rope(k, cos, sin, cfg.rope_pairing)
        o = attention(q, k, v, cfg.n_rep, D)
        x = x + linear(o, W[a + "o_proj.weight"])
        h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        if cfg.n_experts == 0:
            x = x + swiglu(h, W[p + "mlp.gate_proj.weight"], W[p + "mlp.up_proj.weight"], W[p + "mlp.down_proj.weight"])
        else:
            if router_log is not None:
                router_log.append(linear(h, W[p + "mlp.gate.weight"]))  # router logits
            x = x + moe(h, W, p, cfg)
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.tie_embeddings else W["lm_head.weight"]
    return linear(x, head)


def greedy(cfg: Config, W: Dict[str, torch.Tensor], prompt: List[int], n: int):
    """n greedy tokens after prompt; returns (tokens, margins) where margins[i] is
    top1 - top2 of the logits that chose token i."""
    seq = list(prompt)
    out, margins = [], []
    for _ in range(n):
        logits = forward(cfg, W, seq)[-1]
        top2 = torch.topk(logits, 2)
        t = int(top2.indices[0])
        margins.append(float(top2.values[0] - top2.values[1]))
        out.append(t)
        seq.append(t)
    return out, margins
