#include "model/hub/repo_ref.h"

#include <cctype>

namespace vkmind::hub {

namespace {

// The Hub's repo names: letters, digits, '-', '_', '.', not starting with '.' or '-'.
bool valid_name_part(const std::string& s) {
  if (s.empty() || s.size() > 96 || s[0] == '.' || s[0] == '-' || s.find("..") != std::string::npos ||
      s.find("--") != std::string::npos) {
    return false;
  }
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

}  // namespace

bool is_hub_model(const std::string& model) { return model.rfind(kHubPrefix, 0) == 0; }

std::optional<RepoRef> parse_repo_ref(const std::string& text, std::string* why) {
  auto fail = [&](const std::string& reason) -> std::optional<RepoRef> {
    if (why) *why = "'" + text + "': " + reason;
    return std::nullopt;
  };
  RepoRef ref;
  std::string repo = text;
  if (const size_t colon = text.find(':'); colon != std::string::npos) {
    repo = text.substr(0, colon);
    ref.quant = text.substr(colon + 1);
    if (ref.quant.empty()) return fail("nothing after ':' (ORG/REPO:QUANT, e.g. Qwen/Qwen3-0.6B-GGUF:Q8_0)");
    for (unsigned char c : ref.quant) {
      if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return fail("'" + ref.quant + "' is not a quant name");
    }
  }
  const size_t slash = repo.find('/');
  if (slash == std::string::npos || repo.find('/', slash + 1) != std::string::npos) {
    return fail("a Hub model is ORG/REPO or ORG/REPO:QUANT");
  }
  if (!valid_name_part(repo.substr(0, slash)) || !valid_name_part(repo.substr(slash + 1))) {
    return fail("not a Hub repository name (letters, digits, '-', '_', '.')");
  }
  ref.repo = repo;
  return ref;
}

}  // namespace vkmind::hub
