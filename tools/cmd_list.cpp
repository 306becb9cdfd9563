// `vkmind list`: the models in the Hugging Face cache (vkmind's pulls and the
// Python tools' downloads alike), with what -m takes to run each.
#include <cstdio>
#include <memory>

#include "model/hub/file_selection.h"
#include "model/hub/hub_config.h"
#include "model/hub/hub_cache.h"
#include "model/hub/progress.h"
#include "tools/commands.h"

namespace vkmind::cli {

namespace {

// The -m names a snapshot can run under: hf:REPO for a loadable folder,
// hf:REPO:QUANT for each GGUF file.
std::string runnable_as(const hub::CachedSnapshot& s) {
  std::string names;
  if (hub::is_loadable_hf_folder(hub::hf_folder_files(s.files))) names = "hf:" + s.repo;
  for (const std::string& quant : hub::gguf_quants(s.files)) names += (names.empty() ? "" : " ") + ("hf:" + s.repo + ":" + quant);
  return names.empty() ? "-" : names;
}

void run_list() {
  const hub::HubConfig config = hub::hub_config_from_env();
  const auto snapshots = hub::list_cached(config.cache_root);
  if (snapshots.empty()) {
    std::printf("No models in %s (vkmind pull ORG/REPO fetches one)\n", config.cache_root.c_str());
    return;
  }
  std::printf("%-40s %-19s %5s %10s  %s\n", "REPO", "REVISION", "FILES", "SIZE", "PATH");
  for (const hub::CachedSnapshot& s : snapshots) {
    std::string revision = s.commit.substr(0, 12);
    for (const std::string& ref : s.refs) revision += " " + ref;
    std::printf("%-40s %-19s %5zu %10s  %s\n", s.repo.c_str(), revision.c_str(), s.files.size(),
                hub::format_bytes(s.bytes).c_str(), s.path.c_str());
    std::printf("%-40s run as: %s\n", "", runnable_as(s).c_str());
  }
}

}  // namespace

void add_list_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "List the models in the Hugging Face cache");
  cmd->footer("The cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.");
  cmd->callback([] { run_list(); });
}

}  // namespace vkmind::cli
