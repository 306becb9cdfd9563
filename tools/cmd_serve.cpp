// `vkmind serve -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel 16]
// [--api-key KEY]`: the OpenAI-compatible server (server/). This process only
// checks the flags, so that a bad one is the same usage error as anywhere
// else, then runs vkmind-serve (serve_main.cpp), installed beside it, in its
// place with the same arguments: the same process, signals and streams.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "tools/commands.h"
#include "tools/serve_flags.h"

namespace vkmind::cli {

namespace {

[[noreturn]] void run_server_program(int argc, char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot tell where vkmind is installed (/proc/self/exe: " + ec.message() + ")");
  const std::string program = (self.parent_path() / "vkmind-serve").string();
  std::vector<char*> args{const_cast<char*>(program.c_str())};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(program.c_str(), args.data());
  throw std::runtime_error("cannot run " + program + ", the server behind `vkmind serve`: " + std::strerror(errno));
}

}  // namespace

void add_serve_command(CLI::App& app, int argc, char** argv) {
  auto flags = std::make_shared<ServeFlags>();
  add_serve_subcommand(app, *flags)->callback([flags, argc, argv] { run_server_program(argc, argv); });
}

}  // namespace vkmind::cli
