// `vkmind pull` and `-m hf:...`: a repository's files brought into the cache
// (or found there) and the local path a loader opens.
#pragma once

#include <string>
#include <vector>

#include "model/hub/hub_config.h"
#include "model/hub/repo_ref.h"

namespace vkmind::hub {

struct PullResult {
  std::string path;                // the snapshot folder (HF layout) or the GGUF file in it
  std::string commit;
  std::vector<std::string> files;  // the repository files it is made of
  bool downloaded = false;         // false: everything was cached already
};

// Online: one listing request, then only the files missing from the cache.
// Offline (config.offline), or when the Hub cannot be reached: the snapshot
// refs/main names, with a clear error when it lacks what is needed.
PullResult pull(const RepoRef& ref, const HubConfig& config);

// "hf:ORG/REPO[:QUANT]" -> the local path (pulling on first use); any other
// model argument comes back as it is.
std::string resolve_model(const std::string& model, const HubConfig& config);

}  // namespace vkmind::hub
