#include "tools/serve_flags.h"

#include <cstdint>

namespace vkmind::cli {

CLI::App* add_serve_subcommand(CLI::App& app, ServeFlags& f) {
  f.model.engine.parallel = 16;
  auto* cmd = app.add_subcommand("serve", "Serve the OpenAI API (chat/completions, completions, models) over HTTP");
  add_model_flags(*cmd, f.model);
  add_chat_template_flag(*cmd, f.model);
  cmd->add_option("--host", f.server.host, "Address to listen on (loopback by default)");
  cmd->add_option("--port", f.server.port, "Port (0: any free one)")->check(integer_in(0, 65535));
  add_batching_flags(*cmd, f.model);
  cmd->add_option("--api-key", f.server.api_key, "Require 'Authorization: Bearer KEY' on /v1 (default: $VKMIND_API_KEY)");
  cmd->add_option("--alias", f.alias, "The model's name in the API (default: its file or folder name)");
  cmd->add_option("--max-queue", f.server.max_queue, "Requests queued beyond --parallel; more get 429")
      ->check(integer_in(0, 100000));
  cmd->add_option("--max-body", f.server.max_body_bytes, "Largest request body in bytes; larger get 413")
      ->check(integer_in(1024, int64_t(1) << 30));
  cmd->add_option("--grace", f.server.grace_seconds, "Seconds running requests get to finish on SIGTERM")
      ->check(number_in(0, 3600));
  SamplingParams& s = f.server.defaults.sampling;
  cmd->add_option("--temp", s.temperature, "Default temperature")->check(number_in(0, 2));
  cmd->add_option("--top-k", s.top_k, "Default top-k (0: off)")->check(integer_in(0, INT32_MAX));
  cmd->add_option("--top-p", s.top_p, "Default top-p (1: off)")->check(number_in(0, 1));
  cmd->add_option("--min-p", s.min_p, "Default min-p (0: off)")->check(number_in(0, 1));
  return cmd;
}

}  // namespace vkmind::cli
