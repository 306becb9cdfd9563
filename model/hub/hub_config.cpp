#include "model/hub/hub_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

namespace vkmind::hub {

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string default_cache_root() {
  if (std::string dir = env("HF_HUB_CACHE"); !dir.empty()) return dir;
  if (std::string home = env("HF_HOME"); !home.empty()) return home + "/hub";
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty()) return xdg + "/huggingface/hub";
  return env("HOME") + "/.cache/huggingface/hub";
}

}  // namespace

bool env_flag_is_set(const char* value) {
  if (!value) return false;
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

HubConfig hub_config_from_env() {
  HubConfig config;
  if (std::string endpoint = env("HF_ENDPOINT"); !endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    config.endpoint = endpoint;
  }
  config.token = env("HF_TOKEN");
  config.cache_root = default_cache_root();
  config.offline = env_flag_is_set(std::getenv("HF_HUB_OFFLINE"));
  if (std::string wait = env("VKMIND_HUB_RETRY_WAIT_MS"); !wait.empty()) {
    config.retry_wait = std::chrono::milliseconds(std::strtol(wait.c_str(), nullptr, 10));
  }
  return config;
}

}  // namespace vkmind::hub
