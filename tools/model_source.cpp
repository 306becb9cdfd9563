#include "tools/model_source.h"

#include <unistd.h>

#include <filesystem>

#include "model/hub/hub_config.h"
#include "model/hub/pull.h"
#include "model/hub/repo_ref.h"

namespace vkmind::cli {

CLI::Validator model_path_or_hub() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (hub::is_hub_model(value)) {
          std::string why;
          if (!hub::parse_repo_ref(value.substr(3), &why)) return why;
          return "";
        }
        std::error_code ec;
        if (std::filesystem::exists(value, ec)) return "";
        return "Path does not exist: " + value + " (a Hub model is hf:ORG/REPO or hf:ORG/REPO:QUANT)";
      },
      "PATH|hf:ORG/REPO[:QUANT]");
}

CLI::Option* add_offline_flag(CLI::App& cmd, bool& offline) {
  return cmd.add_flag("--offline", offline, "Use only the Hugging Face cache for hf: models (as HF_HUB_OFFLINE=1)");
}

std::string resolve_model_source(const std::string& model, bool offline) {
  if (!hub::is_hub_model(model)) return model;
  hub::HubConfig config = hub::hub_config_from_env();
  config.offline = config.offline || offline;
  config.progress = ::isatty(STDERR_FILENO);
  return hub::resolve_model(model, config);
}

}  // namespace vkmind::cli
