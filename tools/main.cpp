// vkmind: the command-line front end. Subcommands are registered from their
// own files; errors surface as one line on stderr and a status (cli_main.h).
#include <cstdio>
#include <cstring>

#include "tools/cli_main.h"
#include "tools/commands.h"


namespace {

// CLI11 would say "A subcommand is required" for `vkmind foo`: name it instead.
bool unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return false;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(argv[1])) return false;
  }
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  std::fprintf(stderr, "vkmind: unknown subcommand '%s' (subcommands: %s; --help for more)\n", argv[1], names.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vkmind: LLM inference on any Vulkan device"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every subcommand");
  vkmind::cli::configure_app(app);
  vkmind::cli::add_info_command(app);
  vkmind::cli::add_tokenize_command(app);
  vkmind::cli::add_run_command(app);
  vkmind::cli::add_logits_command(app);
  vkmind::cli::add_bench_command(app);
  vkmind::cli::add_chat_command(app);
  vkmind::cli::add_perplexity_command(app);
  vkmind::cli::add_batch_command(app);
  vkmind::cli::add_serve_command(app, argc, argv);
  vkmind::cli::add_quantize_command(app);
  vkmind::cli::add_pull_command(app);
  vkmind::cli::add_list_command(app);
  vkmind::cli::add_template_command(app);
  if (unknown_subcommand(app, argc, argv)) return vkmind::cli::kExitUsage;
  return vkmind::cli::run_app(app, argc, argv);
}
