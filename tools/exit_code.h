// Thrown by a subcommand that has already told the user what went wrong and
// only needs main() to exit with a given status.
#pragma once

namespace vkmind::cli {

struct ExitCode {
  int status;
};

}  // namespace vkmind::cli
