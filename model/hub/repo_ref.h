// A model on the Hub as the command line names it: ORG/REPO for a Hugging Face
// folder, ORG/REPO:QUANT for one GGUF file of a GGUF repo; `-m` takes either
// with an "hf:" prefix.
#pragma once

#include <optional>
#include <string>

namespace vkmind::hub {

struct RepoRef {
  std::string repo;   // "ORG/REPO"
  std::string quant;  // "" for a Hugging Face folder, else e.g. "Q8_0"
  std::string display() const { return quant.empty() ? repo : repo + ":" + quant; }
};

inline constexpr const char* kHubPrefix = "hf:";

// True for "hf:..." (the -m spelling of a Hub model).
bool is_hub_model(const std::string& model);
// Parses "ORG/REPO[:QUANT]" (no "hf:"); std::nullopt with `why` set when malformed.
std::optional<RepoRef> parse_repo_ref(const std::string& text, std::string* why = nullptr);

}  // namespace vkmind::hub
