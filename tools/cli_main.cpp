#include "tools/cli_main.h"

#include <cstdio>
#include <exception>
#include <string>

#include "runtime/vk/device.h"
#include "tools/commands.h"
#include "tools/exit_code.h"

#ifndef VKMIND_VERSION
#define VKMIND_VERSION "unknown"
#endif

namespace vkmind::cli {

void configure_app(CLI::App& app) {
  app.set_version_flag("--version", std::string("vkmind ") + VKMIND_VERSION);
  // Inherited by every subcommand: --help shows each option's default.
  app.option_defaults()->always_capture_default();
}

int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);  // prints help, the version, or the error
    return status == 0 ? 0 : kExitUsage;
  } catch (const ExitCode& e) {
    return e.status;
  } catch (const vk::NoSuchDevice& e) {
    std::fprintf(stderr, "vkmind: %s", e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkmind: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace vkmind::cli
