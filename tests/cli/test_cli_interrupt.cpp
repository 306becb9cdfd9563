// Ctrl-C and Ctrl-D, as signals from the test and as keys on a pseudo-terminal.
#include <csignal>
#include <thread>

#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"

using namespace vkmind::test;
using namespace std::chrono_literals;

namespace {

// Generates for a few seconds on lavapipe unless stopped (the whole 2048 context).
std::vector<std::string> long_run() {
  return with_binary({"run", "-m", tiny_gguf(), "-p", "Once", "-n", "-1", "--ignore-eos", "--temp", "0"});
}

std::vector<std::string> long_chat() {
  return with_binary({"chat", "-m", tiny_gguf(), "-n", "-1", "--ignore-eos", "--temp", "0", "--stats"});
}

}  // namespace

TEST_CASE("Ctrl-C stops `run` through the cancel path: statistics, exit 130", "[cli]") {
  PipedProcess p(long_run());
  REQUIRE(p.wait_for_output("Once", 0));
  REQUIRE(p.wait_for_output("", 64));  // some generated text first
  p.signal(SIGINT);
  auto r = p.wait();
  INFO(r.err);
  CHECK(r.signal == 0);
  CHECK(r.status == 130);
  CHECK(r.err.find("stopped: cancelled") != std::string::npos);
  CHECK(r.err.find("[vkmind] prompt") != std::string::npos);
}

TEST_CASE("Ctrl-C in a long prefill cancels before the first token", "[cli]") {
  ScratchDir dir;
  std::string prompt;
  for (int i = 0; i < 500; ++i) prompt += "abc ";  // ~1500 tokens
  // One token per prefill step: the prompt takes a second or more on lavapipe.
  PipedProcess p(with_binary({"run", "-m", tiny_gguf(), "-f", dir.write("p.txt", prompt), "--chunk", "1", "-n", "4"}));
  REQUIRE(p.wait_for_output("abc abc", 0));
  std::this_thread::sleep_for(100ms);
  p.signal(SIGINT);
  auto r = p.wait(10s);
  INFO(r.err);
  CHECK(r.status == 130);
  CHECK(r.err.find("generated 0 tokens") != std::string::npos);
  CHECK(r.err.find("stopped: cancelled") != std::string::npos);
}

TEST_CASE("chat over a pipe: Ctrl-C stops the reply only - at the prompt it quits", "[cli]") {
  PipedProcess p(long_chat(), {.close_stdin = false});
  REQUIRE(p.wait_for_output("> ", 0));
  p.write("Hello\n");
  const size_t mark = p.out().size();
  REQUIRE(p.wait_for_output("", mark + 64));  // the reply is flowing
  p.signal(SIGINT);
  REQUIRE(p.wait_for_output("(reply stopped)", mark));
  const size_t after = p.out().size();
  REQUIRE(p.wait_for_output("> ", after - 4));
  // Still alive: another turn works.
  std::this_thread::sleep_for(1100ms);  // past the double-Ctrl-C window
  p.write("Again\n");
  const size_t mark2 = p.out().size();
  REQUIRE(p.wait_for_output("", mark2 + 32));
  p.signal(SIGINT);
  REQUIRE(p.wait_for_output("(reply stopped)", mark2));
  std::this_thread::sleep_for(1100ms);
  p.signal(SIGINT);  // at an empty prompt
  auto r = p.wait(10s);
  CHECK(r.status == 130);
  CHECK(count(r.err, "stopped: cancelled") == 2);
}

TEST_CASE("chat on a terminal: Ctrl-C stops a reply, Ctrl-D at the prompt exits 0", "[cli]") {
  PtyProcess t(long_chat());
  REQUIRE(t.expect("> ", 0));
  t.type("Hello\r");
  const size_t mark = t.output().size();
  REQUIRE(t.expect("", mark + 64));
  t.type("\x03");
  REQUIRE(t.expect("(reply stopped)", mark));
  REQUIRE(t.expect("> ", t.output().size() - 8));
  t.type("\x04");
  auto r = t.wait(10s);
  INFO(r.out);
  CHECK(r.status == 0);
}

TEST_CASE("chat on a terminal: Ctrl-C discards a typed line - at an empty prompt it exits", "[cli]") {
  PtyProcess t(with_binary({"chat", "-m", tiny_gguf(), "-n", "2", "--temp", "0", "--ignore-eos", "--stats"}));
  REQUIRE(t.expect("> ", 0));
  t.type("some words");
  std::this_thread::sleep_for(200ms);
  t.type("\x03");
  REQUIRE(t.expect("some words^C", 0));
  REQUIRE(t.expect("> ", t.output().find("some words^C")));
  // Still chatting: the next message is answered, and only it.
  t.type("Hi\r");
  REQUIRE(t.expect("(reply cut at 2 tokens: -n)", 0));
  REQUIRE(t.expect("> ", t.output().find("(reply cut")));
  std::this_thread::sleep_for(1100ms);
  t.type("\x03");
  auto r = t.wait(10s);
  INFO(r.out);
  CHECK(r.status == 130);
  CHECK(count(r.out, "[vkmind] prompt") == 1);  // the discarded line was never sent
}

TEST_CASE("chat on a terminal: history, and a pasted block is one message", "[cli]") {
  PtyProcess t(with_binary({"chat", "-m", tiny_gguf(), "-n", "2", "--temp", "0", "--ignore-eos", "--stats"}));
  REQUIRE(t.expect("> ", 0));
  t.type("Hello\r");
  REQUIRE(t.expect("(reply cut at 2 tokens: -n)", 0));
  const size_t mark = t.output().size();
  REQUIRE(t.expect("> ", mark - 4));
  t.type("\x1b[A");  // up: the last message back
  REQUIRE(t.expect("Hello", mark));
  t.type("\r");
  REQUIRE(t.expect("(reply cut at 2 tokens: -n)", mark));
  const size_t mark2 = t.output().size();
  REQUIRE(t.expect("> ", mark2 - 4));
  // A paste: all lines arrive at once.
  const std::string paste = "line one\rline two\rline three\r";
  t.type_all(paste);
  REQUIRE(t.expect("(reply cut at 2 tokens: -n)", mark2));
  std::this_thread::sleep_for(300ms);
  t.type("/bye\r");
  auto r = t.wait(10s);
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(count(r.out, "[vkmind] prompt") == 3);  // Hello, Hello again, the paste as one
}
