#!/usr/bin/python3
"""Writes a random-weight model of minimind-3's size (768 hidden, 8 layers, 8 heads,
4 KV heads, head_dim 96, FFN 2432, vocab 6400, f16) as a Hugging Face folder, for
`vkmind bench`. Random weights: the speed is real, the text is not. ~130 MB, not committed.

    /usr/bin/python3 tests/reference/bench_model.py /tmp/minimind3-random
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


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/minimind3-random"
    cfg = Config(vocab_size=6400, hidden_size=768, n_layers=8, n_heads=8, n_kv_heads=4, head_dim=96,
                 intermediate_size=2432, rms_norm_eps=1e-6, rope_theta=1e6, qk_norm=True,
                 tie_embeddings=True, max_position_embeddings=32768)
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
    print(out)


if __name__ == "__main__":
    main()
