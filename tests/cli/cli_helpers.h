// Shared by the CLI tests: the built binary, the committed models they run,
// and a one-line way to run a subcommand.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "tests/cli/process.h"

namespace vkmind::test {

// A tiny random-weight Llama GGUF (byte-level BPE, 288 tokens, context 2048,
// tokenizer.ggml.add_bos_token absent = false, ChatML template): fast on lavapipe.
inline std::string tiny_gguf() { return std::string(VKMIND_SOURCE_DIR) + "/tests/reference/golden/llama_f32/model.gguf"; }
// The same family as a Hugging Face folder (MiniMind-3, 288 tokens).
inline std::string tiny_hf() { return std::string(VKMIND_SOURCE_DIR) + "/tests/reference/golden/minimind3_f32/hf"; }

// The binary under test: the one built beside the tests, or $VKMIND_CLI_BINARY
// (an older build, to see which tests a change made pass).
inline std::string binary() {
  const char* other = std::getenv("VKMIND_CLI_BINARY");
  return other && *other ? other : VKMIND_BINARY;
}

inline ProcessResult run_cli(std::vector<std::string> args, const ProcessOptions& options = {}) {
  args.insert(args.begin(), binary());
  ProcessResult r = run_process(args, options);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  return r;
}

inline std::vector<std::string> with_binary(std::vector<std::string> args) {
  args.insert(args.begin(), binary());
  return args;
}

inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace vkmind::test
