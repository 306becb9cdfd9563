// `vkmind pull ORG/REPO[:QUANT]`: a Hub model into the Hugging Face cache;
// its local path on stdout, for scripts.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "model/hub/hub_config.h"
#include "model/hub/pull.h"
#include "model/hub/repo_ref.h"
#include "tools/commands.h"
#include "tools/model_source.h"

namespace vkmind::cli {

namespace {

struct PullOptions {
  std::string model;
  bool offline = false;
  bool progress = false, no_progress = false;
  bool quiet = false;
};

void run_pull(const PullOptions& opts) {
  std::string name = opts.model;
  if (hub::is_hub_model(name)) name = name.substr(3);
  const auto ref = hub::parse_repo_ref(name);  // checked by the option already
  hub::HubConfig config = hub::hub_config_from_env();
  config.offline = config.offline || opts.offline;
  config.progress = opts.progress || (!opts.no_progress && !opts.quiet && ::isatty(STDERR_FILENO));
  const hub::PullResult result = hub::pull(*ref, config);
  if (!opts.quiet) {
    std::fprintf(stderr, "vkmind: %s %s (revision %s, %zu file%s) in %s\n", ref->display().c_str(),
                 result.downloaded ? "pulled" : "is up to date", result.commit.substr(0, 12).c_str(),
                 result.files.size(), result.files.size() == 1 ? "" : "s", config.cache_root.c_str());
  }
  std::cout << result.path << "\n";
}

}  // namespace

void add_pull_command(CLI::App& app) {
  auto opts = std::make_shared<PullOptions>();
  auto* cmd = app.add_subcommand("pull", "Download a model from the Hugging Face Hub into its cache (prints its path)");
  cmd->add_option("model", opts->model,
                  "ORG/REPO (a Hugging Face folder) or ORG/REPO:QUANT (one GGUF file of a GGUF repo)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            std::string why;
            return hub::parse_repo_ref(hub::is_hub_model(value) ? value.substr(3) : value, &why) ? "" : why;
          },
          "ORG/REPO[:QUANT]"));
  add_offline_flag(*cmd, opts->offline);
  auto* progress = cmd->add_flag("--progress", opts->progress, "Show download progress (default: on a terminal)");
  cmd->add_flag("--no-progress", opts->no_progress, "No download progress")->excludes(progress);
  cmd->add_flag("--quiet,-q", opts->quiet, "Only the path on stdout");
  cmd->footer("Env: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (gated and private repos), "
              "HF_HUB_CACHE / HF_HOME (the cache: $HF_HOME/hub, default ~/.cache/huggingface/hub), HF_HUB_OFFLINE=1.");
  cmd->callback([opts] { run_pull(*opts); });
}

}  // namespace vkmind::cli
