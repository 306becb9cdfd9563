// What main() of each vkmind executable does with its CLI11 app: parse, run
// the chosen subcommand, and turn errors into one line on stderr and a status:
// 0 success, 1 a failure while running, 2 a usage error (bad flag or value,
// unknown subcommand or device), 130 interrupted by Ctrl-C.
#pragma once

#include <CLI/CLI.hpp>

namespace vkmind::cli {

// The settings both executables' apps share: --version ("vkmind X.Y.Z") and
// every option's default shown in --help.
void configure_app(CLI::App& app);

int run_app(CLI::App& app, int argc, char** argv);

}  // namespace vkmind::cli
