// Where the Hub is and where its files are cached, as huggingface_hub reads
// it from the environment, so vkmind and the Python tools share one cache.
#pragma once

#include <chrono>
#include <string>

namespace vkmind::hub {

struct HubConfig {
  std::string endpoint = "https://huggingface.co";  // $HF_ENDPOINT, no trailing '/'
  std::string token;                                 // $HF_TOKEN: sent as a Bearer token
  std::string cache_root;                            // $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub
  bool offline = false;                              // $HF_HUB_OFFLINE or --offline: the cache only
  bool progress = false;                             // a progress line on stderr while downloading
  // Transient failures (5xx, a cut connection, a stall) are retried this many
  // times, waiting retry_wait, then twice as long, ...
  int retries = 4;
  std::chrono::milliseconds retry_wait{1000};
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{30};  // no byte for this long: a transient failure
};

// The configuration the environment describes. VKMIND_HUB_RETRY_WAIT_MS
// shortens the back-off (tests).
HubConfig hub_config_from_env();

// "1", "true", "yes", "on" in any case, as huggingface_hub reads its flags.
bool env_flag_is_set(const char* value);

}  // namespace vkmind::hub
