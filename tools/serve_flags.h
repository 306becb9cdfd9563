// The flags of `vkmind serve`, registered by both executables that parse
// them: `vkmind` (which checks them, then runs vkmind-serve in its place) and
// vkmind-serve (which serves).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "server/http_server.h"
#include "tools/engine_flags.h"

namespace vkmind::cli {

struct ServeFlags {
  ModelFlags model;
  server::ServerOptions server;
  std::string alias;
};

// Adds the `serve` subcommand with its flags, parsed into `flags`.
CLI::App* add_serve_subcommand(CLI::App& app, ServeFlags& flags);

}  // namespace vkmind::cli
