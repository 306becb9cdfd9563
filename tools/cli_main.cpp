#include "tools/cli_main.h"

#include <cstdio>
#include <exception>

#include "runtime/vk/device.h"
#include "tools/commands.h"
#include "tools/exit_code.h"

namespace vkmind::cli {

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
