// vkmind: the command-line front end. Subcommands are registered from their
// own files; errors surface here as one line on stderr and a non-zero status.
#include <cstdio>
#include <exception>

#include "tools/commands.h"
#include "tools/exit_code.h"

int main(int argc, char** argv) {
  CLI::App app{"vkmind: LLM inference on any Vulkan device"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  vkmind::cli::add_info_command(app);
  vkmind::cli::add_tokenize_command(app);
  vkmind::cli::add_run_command(app);
  vkmind::cli::add_logits_command(app);
  vkmind::cli::add_bench_command(app);
  vkmind::cli::add_chat_command(app);
  vkmind::cli::add_perplexity_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const vkmind::cli::ExitCode& e) {
    return e.status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vkmind: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
