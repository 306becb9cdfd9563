#!/usr/bin/python3
"""Writes a random-weight model as a Hugging Face folder, for `vkmind bench` (and,
converted with `vkmind quantize`, for llama.cpp's llama-bench side by side).
Random weights: the speed is real, the text is not. Not committed.

    /usr/bin/python3 tests/reference/bench_model.py /tmp/minimind3-random            # ~130 MB
    /usr/bin/python3 tests/reference/bench_model.py /tmp/qwen3-0.6b-random qwen3-0.6b  # ~1.2 GB

Sizes: minimind3 (768 hidden, 8 layers, 8 heads, 4 KV heads, head_dim 96, FFN 2432,
vocab 6400) and qwen3-0.6b (1024 hidden, 28 layers, 16 heads, 8 KV heads, head_dim
128, FFN 3072, vocab 151936), both f16 with QK-norm and a tied head. The tokenizer is
MiniMind's; for a larger vocabulary its token list is padded with unused tokens, so
that the file's token count matches the embedding (llama.cpp requires it).
"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, hf_tensor_shapes  # noqa: E402
from writers import hf_config, write_safetensors  # noqa: E402

# The real MiniMind tokenizer (vocab 6400) when ../shared is beside the checkout.
SHARED_TOKENIZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/tokenizers/minimind")


SIZES = {
    "minimind3": dict(vocab_size=6400, hidden_size=768, n_layers=8, n_heads=8, n_kv_heads=4, head_dim=96,
                      intermediate_size=2432),
    "qwen3-0.6b": dict(vocab_size=151936, hidden_size=1024, n_layers=28, n_heads=16, n_kv_heads=8, head_dim=128,
                       intermediate_size=3072),
}


def pad_vocabulary(folder, size):
    """Adds unused tokens to tokenizer.json until it holds `size` ids."""
    path = os.path.join(folder, "tokenizer.json")
    with open(path) as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    used = set(vocab.values()) | {t["id"] for t in tok.get("added_tokens", [])}
    for i in range(size):
        if i not in used:
            vocab["<|unused_%d|>" % i] = i
    with open(path, "w") as f:
        json.dump(tok, f, ensure_ascii=False)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/minimind3-random"
    size = sys.argv[2] if len(sys.argv) > 2 else "minimind3"
    if size not in SIZES:
        sys.exit("bench_model.py: size must be one of " + ", ".join(SIZES))
    cfg = Config(**SIZES[size], rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True, tie_embeddings=True,
                 max_position_embeddings=32768)
    rng = np.random.default_rng(0)
    weights = {}
    for name, shape in hf_tensor_shapes(cfg).items():
        if "norm" in name:
            weights[name] = np.ones(shape, dtype=np.float32)
        else:
            weights[name] = (rng.standard_normal(shape, dtype=np.float32) / np.sqrt(shape[-1])).astype(np.float32)
    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), {k: v.astype(np.float16) for k, v in weights.items()})
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf_config("minimind3", cfg, "float16"), f, indent=2)
    if not os.path.isdir(SHARED_TOKENIZER):
        sys.exit("bench_model.py: needs ../shared/tokenizers/minimind for the tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(SHARED_TOKENIZER, name), os.path.join(out, name))
    if cfg.vocab_size > 6400:
        pad_vocabulary(out, cfg.vocab_size)
    print(out)


if __name__ == "__main__":
    main()
