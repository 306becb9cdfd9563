"""Checkpoint writers for the oracle: Hugging Face folders (config.json +
model.safetensors + tokenizer files) and GGUF v3 files. Our own small
writers: no safetensors / gguf packages needed. Also the tiny byte-level BPE
tokenizer shared by every checkpoint.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Dict, List, Tuple

import numpy as np

from model import Config

# ---------------------------------------------------------------- tokenizer

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 (MiniMind's)
BOS_ID, EOS_ID, PAD_ID = 1, 2, 0
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_WORDS = ["Ġthe", "Ġa", "Ġand", "Ġwas", "Ġto", "Ġhe", "Ġshe", "Ġit", "Ġin", "Ġday", "Ġtime", "Ġonce",
          "Ġupon", "Ġthere", "Ġdog", "Ġcat", "ing", "ed", "er", "Ġhappy", "Ġplay", "Ġsaid", "Ġsun", "Ġfriend",
          "Ġbig", "Ġlittle", "Ġran", "Ġsaw", "Ġtree", "Ġbird", "Ġhome", "Ġmom", "Ġday.", "Ġwent", "Ġwith"]


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def make_tokenizer(vocab_size: int) -> Tuple[List[str], List[str]]:
    """Byte-level BPE vocabulary of exactly vocab_size tokens: 3 specials, the 256
    byte characters (in byte order), then merged tokens; and the merges (rank order)."""
    b2u = bytes_to_unicode()
    tokens = SPECIALS + [b2u[b] for b in range(256)]
    assert vocab_size >= len(tokens)
    have = set(tokens)
    merges = []
    for w in _WORDS:
        for n in range(2, len(w) + 1):
            if len(tokens) >= vocab_size:
                break
            piece = w[:n]
            if piece in have:
                continue
            merges.append(w[:n - 1] + " " + w[n - 1])
            tokens.append(piece)
            have.add(piece)
    k = 0
    while len(tokens) < vocab_size:  # pad with 2-character merges if the words ran out
        a, b = b2u[ord("a") + k % 26], b2u[ord("a") + k // 26 % 26]
        k += 1
        if a + b in have:
            continue
        merges.append(a + " " + b)
        tokens.append(a + b)
        have.add(a + b)
    return tokens, merges


def write_hf_tokenizer(folder: str, vocab_size: int, model_max_length: int):
    tokens, merges = make_tokenizer(vocab_size)
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for i, s in enumerate(SPECIALS)
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            "vocab": {t: i for i, t in enumerate(tokens)},
            "merges": merges,
        },
    }
    with open(os.path.join(folder, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    tc = {
        "add_bos_token": False,
        "add_eos_token": False,
        "bos_token": SPECIALS[BOS_ID],
        "eos_token": SPECIALS[EOS_ID],
        "pad_token": SPECIALS[PAD_ID],
        "unk_token": SPECIALS[PAD_ID],
        "model_max_length": model_max_length,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": CHAT_TEMPLATE,
    }
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tc, f, ensure_ascii=False, indent=1)


# ---------------------------------------------------------------- safetensors

def write_safetensors(path: str, tensors: Dict[str, np.ndarray]):
    """tensors: name -> array (float32 or float16), written row-major, little-endian."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def hf_config(kind: str, cfg: Config, dtype: str) -> dict:
    """config.json with the field names of the real model classes."""
    common = {
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "tie_word_embeddings": cfg.tie_embeddings,
        "vocab_size": cfg.vocab_size,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "torch_dtype": dtype,
        "transformers_version": "4.51.0",
        "use_cache": True,
    }
    if kind == "llama":
        c = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **common,
             "attention_bias": False, "attention_dropout": 0.0, "mlp_bias": False, "pretraining_tp": 1,
             "initializer_range": 0.02}
    elif kind == "qwen2":
        c = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", **common,
             "attention_dropout": 0.0, "use_sliding_window": False, "sliding_window": None,
             "max_window_layers": cfg.n_layers, "initializer_range": 0.02}
        c.pop("head_dim")  # Qwen2 derives it: hidden / heads
        assert cfg.head_dim * cfg.n_heads == cfg.hidden_size
    elif kind == "qwen3":
        c = {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", **common,
             "attention_bias": False, "attention_dropout": 0.0, "use_sliding_window": False,
             "sliding_window": None, "max_window_layers": cfg.n_layers, "initializer_range": 0.02}
    elif kind == "minimind3":
        # jingyaogong/minimind model/model_minimind.py, current MiniMindConfig (minimind-3)
        c = {"architectures": ["MiniMindForCausalLM"], "model_type": "minimind",
             "hidden_size": cfg.hidden_size, "num_hidden_layers": cfg.n_layers, "use_moe": cfg.n_experts > 0,
             "dropout": 0.0, "vocab_size": cfg.vocab_size, "bos_token_id": BOS_ID, "eos_token_id": EOS_ID,
             "flash_attn": True, "num_attention_heads": cfg.n_heads, "num_key_value_heads": cfg.n_kv_heads,
             "head_dim": cfg.head_dim, "hidden_act": "silu", "intermediate_size": cfg.intermediate_size,
             "max_position_embeddings": cfg.max_position_embeddings, "rms_norm_eps": cfg.rms_norm_eps,
             "rope_theta": cfg.rope_theta, "tie_word_embeddings": cfg.tie_embeddings,
             "inference_rope_scaling": cfg.yarn is not None,
             "rope_scaling": dict(cfg.yarn, type="yarn") if cfg.yarn is not None else None,
             "torch_dtype": dtype, "transformers_version": "4.57.1"}
        if cfg.n_experts > 0:
            c.update({"num_experts": cfg.n_experts, "num_experts_per_tok": cfg.top_k,
                      "moe_intermediate_size": cfg.moe_intermediate_size, "norm_topk_prob": cfg.norm_topk_prob,
                      "router_aux_loss_coef": 5e-4})
            assert cfg.n_shared_experts == 0
    elif kind == "minimind2":
        # the MiniMind2 MiniMindConfig (n_routed_experts / n_shared_experts; head_dim = hidden / heads)
        assert cfg.head_dim * cfg.n_heads == cfg.hidden_size and not cfg.qk_norm
        c = {"architectures": ["MiniMindForCausalLM"], "model_type": "minimind",
             "dropout": 0.0, "bos_token_id": BOS_ID, "eos_token_id": EOS_ID, "hidden_act": "silu",
             "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
             "max_position_embeddings": cfg.max_position_embeddings, "num_attention_heads": cfg.n_heads,
             "num_hidden_layers": cfg.n_layers, "num_key_value_heads": cfg.n_kv_heads,
             "vocab_size": cfg.vocab_size, "rms_norm_eps": cfg.rms_norm_eps, "rope_theta": cfg.rope_theta,
             "inference_rope_scaling": False, "rope_scaling": None, "flash_attn": True,
             "use_moe": cfg.n_experts > 0, "num_experts_per_tok": cfg.top_k, "n_routed_experts": cfg.n_experts,
             "n_shared_experts": cfg.n_shared_experts, "scoring_func": "softmax", "aux_loss_alpha": 0.1,
             "seq_aux": True, "norm_topk_prob": cfg.norm_topk_prob, "tie_word_embeddings": cfg.tie_embeddings,
             "torch_dtype": dtype, "transformers_version": "4.44.0"}
        if cfg.n_experts > 0:
            assert cfg.moe_intermediate_size == cfg.intermediate_size  # MiniMind2 experts use intermediate_size
    else:
        raise ValueError(kind)
    return c


def write_hf(folder: str, kind: str, cfg: Config, weights: Dict[str, np.ndarray], f16: bool):
    """weights: HF names, PyTorch layout. f16: every tensor stored as F16."""
    os.makedirs(folder, exist_ok=True)
    t = {k: (v.astype(np.float16) if f16 else v.astype(np.float32)) for k, v in weights.items()}
    write_safetensors(os.path.join(folder, "model.safetensors"), t)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(hf_config(kind, cfg, "float16" if f16 else "float32"), f, indent=2)
    write_hf_tokenizer(folder, cfg.vocab_size, cfg.max_position_embeddings)


# ---------------------------------------------------------------- GGUF

GGUF_MAGIC = b"GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32
# metadata value types
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
# ggml tensor types
GGML_F32, GGML_F16 = 0, 1

_SCALAR_FMT = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I", T_INT32: "<i",
               T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q", T_FLOAT64: "<d"}


def _gguf_str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _gguf_value(vtype: int, value) -> bytes:
    if vtype == T_STRING:
        return _gguf_str(value)
    if vtype == T_ARRAY:
        etype, items = value
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(_gguf_value(etype, x) for x in items)
    return struct.pack(_SCALAR_FMT[vtype], value)


def write_gguf(path: str, kv: List[Tuple[str, int, object]], tensors: List[Tuple[str, np.ndarray]]):
    """kv: (key, type, value); arrays as (key, T_ARRAY, (elem_type, list)).
    tensors: (name, array) with the array in ggml order reversed, i.e. numpy shape
    [..., ne1, ne0] (a PyTorch [out, in] Linear weight as is); float32 or float16."""
    out = bytearray()
    out += GGUF_MAGIC + struct.pack("<IQQ", GGUF_VERSION, len(tensors), len(kv))
    for key, vtype, value in kv:
        out += _gguf_str(key) + struct.pack("<I", vtype) + _gguf_value(vtype, value)
    offset = 0
    datas = []
    for name, a in tensors:
        a = np.ascontiguousarray(a)
        gtype = {np.dtype(np.float32): GGML_F32, np.dtype(np.float16): GGML_F16}[a.dtype]
        dims = list(reversed(a.shape))  # ne[0] fastest
        out += _gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", gtype, offset)
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        datas.append((offset, raw))
        offset += len(raw)
        offset += (ALIGNMENT - offset % ALIGNMENT) % ALIGNMENT
    out += b"\0" * ((ALIGNMENT - len(out) % ALIGNMENT) % ALIGNMENT)
    base = len(out)
    for off, raw in datas:
        out += b"\0" * (base + off - len(out))
        out += raw
    with open(path, "wb") as f:
        f.write(bytes(out))


def llama_permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """What llama.cpp's convert_hf_to_gguf.py does to q_proj (n_head = heads) and
    k_proj (n_head = kv heads) rows for arch llama: within each head, row i goes
    to 2i and row i + d/2 to 2i+1, so that GPT-J pairing (2i, 2i+1) applies."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_to_gguf_name(name: str) -> str:
    if name == "model.embed_tokens.weight":
        return "token_embd.weight"
    if name == "model.norm.weight":
        return "output_norm.weight"
    if name == "lm_head.weight":
        return "output.weight"
    parts = name.split(".")
    assert parts[0] == "model" and parts[1] == "layers", name
    l = parts[2]
    rest = ".".join(parts[3:])
    m = {
        "input_layernorm.weight": "attn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
        "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
        "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
        "self_attn.o_proj.weight": "attn_output.weight",
        "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
    }
    return f"blk.{l}.{m[rest]}"


def write_gguf_model(path: str, arch: str, cfg: Config, weights: Dict[str, np.ndarray], f16: bool, name: str):
    """arch: llama (q/k rows permuted, GPT-J pairing), qwen2, qwen3 (NeoX). Dense only.
    f16: 2-D tensors F16, 1-D tensors (norms, biases) F32 (as llama.cpp stores them)."""
    assert cfg.n_experts == 0
    tokens, merges = make_tokenizer(cfg.vocab_size)
    a = arch
    kv = [
        ("general.architecture", T_STRING, arch),
        ("general.name", T_STRING, name),
        ("general.alignment", T_UINT32, ALIGNMENT),
        ("general.file_type", T_UINT32, 1 if f16 else 0),
        (f"{a}.vocab_size", T_UINT32, cfg.vocab_size),
        (f"{a}.context_length", T_UINT32, cfg.max_position_embeddings),
        (f"{a}.embedding_length", T_UINT32, cfg.hidden_size),
        (f"{a}.block_count", T_UINT32, cfg.n_layers),
        (f"{a}.feed_forward_length", T_UINT32, cfg.intermediate_size),
        (f"{a}.attention.head_count", T_UINT32, cfg.n_heads),
        (f"{a}.attention.head_count_kv", T_UINT32, cfg.n_kv_heads),
        (f"{a}.attention.key_length", T_UINT32, cfg.head_dim),
        (f"{a}.attention.value_length", T_UINT32, cfg.head_dim),
        (f"{a}.attention.layer_norm_rms_epsilon", T_FLOAT32, cfg.rms_norm_eps),
        (f"{a}.rope.freq_base", T_FLOAT32, cfg.rope_theta),
        (f"{a}.rope.dimension_count", T_UINT32, cfg.head_dim),
        ("tokenizer.ggml.model", T_STRING, "gpt2"),
        ("tokenizer.ggml.pre", T_STRING, "default" if arch == "llama" else "qwen2"),
        ("tokenizer.ggml.tokens", T_ARRAY, (T_STRING, tokens)),
        ("tokenizer.ggml.token_type", T_ARRAY, (T_INT32, [3 if i < len(SPECIALS) else 1 for i in range(len(tokens))])),
        ("tokenizer.ggml.merges", T_ARRAY, (T_STRING, merges)),
        ("tokenizer.ggml.bos_token_id", T_UINT32, BOS_ID),
        ("tokenizer.ggml.eos_token_id", T_UINT32, EOS_ID),
        ("tokenizer.ggml.padding_token_id", T_UINT32, PAD_ID),
        ("tokenizer.ggml.add_bos_token", T_BOOL, False),
        ("tokenizer.chat_template", T_STRING, CHAT_TEMPLATE),
    ]
    assert cfg.yarn is None
    tensors = []
    order = list(weights)  # HF order: embedding, layers, norm, head
    for hf in order:
        w = weights[hf]
        if arch == "llama" and hf.endswith("self_attn.q_proj.weight"):
            w = llama_permute(w, cfg.n_heads)
        elif arch == "llama" and hf.endswith("self_attn.k_proj.weight"):
            w = llama_permute(w, cfg.n_kv_heads)
        assert not (arch == "llama" and (hf.endswith("q_proj.bias") or hf.endswith("k_proj.bias") or "q_norm" in hf
                                         or "k_norm" in hf))
        w = w.astype(np.float16) if (f16 and w.ndim >= 2) else w.astype(np.float32)
        tensors.append((hf_to_gguf_name(hf), w))
    write_gguf(path, kv, tensors)
