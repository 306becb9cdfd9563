// `vkmind bench --parallel`: serving figures of the request API (bench_parallel.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "include/vkmind/engine.h"

namespace vkmind::cli {

// One table row per N in `parallel`: N requests of `prompt_tokens` synthetic
// ids generating `gen_tokens` each, submitted at once (after a warm-up pass).
void run_parallel_bench(Engine& engine, const std::vector<uint32_t>& parallel, uint32_t prompt_tokens,
                        uint32_t gen_tokens, const std::string& model_name);

}  // namespace vkmind::cli
