// `vkmind chat` over pipes: a conversation longer than the context, a message
// that cannot fit, commands, multi-line messages.
#include "tests/cli/cli_helpers.h"

using namespace vkmind::test;

namespace {

std::vector<std::string> chat_args(std::vector<std::string> extra) {
  std::vector<std::string> args{"chat", "-m", tiny_gguf(), "--temp", "0", "--ignore-eos", "--stats"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("chat drops the oldest turns when the conversation outgrows the context", "[cli]") {
  std::string input;
  for (int i = 0; i < 8; ++i) input += "Hello there, turn " + std::to_string(i) + "\n";
  auto r = run_cli(chat_args({"-c", "160", "-n", "8", "--system", "Be brief."}), {input});
  CHECK(r.status == 0);
  CHECK(count(r.err, "[vkmind] prompt") == 8);  // every message answered
  CHECK(r.out.find("oldest message") != std::string::npos);
  CHECK(r.err.find("error") == std::string::npos);
  // After a drop the system message's tokens are still reused from the cache.
  const auto last = r.err.rfind("[vkmind] prompt");
  const std::string stats = r.err.substr(last);
  INFO(stats);
  CHECK(stats.find("(0 cached") == std::string::npos);
}

TEST_CASE("chat refuses a single message that cannot fit and goes on", "[cli]") {
  const std::string huge(400, 'x');
  auto r = run_cli(chat_args({"-c", "128", "-n", "4"}), {huge + "\nHello\n"});
  CHECK(r.status == 0);
  CHECK(r.out.find("the context holds 128: not sent") != std::string::npos);
  CHECK(count(r.err, "[vkmind] prompt") == 1);  // "Hello" still answered
  // The very first message too: nothing to drop, nothing lost after it.
  auto first = run_cli(chat_args({"-c", "128", "-n", "4", "--system", "Be brief."}), {huge + "\n" + huge + "\nHi\n"});
  CHECK(first.status == 0);
  CHECK(count(first.out, "not sent") == 2);
  CHECK(count(first.err, "[vkmind] prompt") == 1);
}

TEST_CASE("chat commands: /help, /reset, /bye, unknown ones", "[cli]") {
  auto r = run_cli(chat_args({"-n", "2"}), {"/help\n/foo\nHi\n/reset\n/bye\nnever sent\n"});
  CHECK(r.status == 0);
  CHECK(r.out.find("/reset") != std::string::npos);
  CHECK(r.out.find("/bye") != std::string::npos);
  CHECK(r.out.find("unknown command /foo") != std::string::npos);
  CHECK(r.out.find("(conversation cleared)") != std::string::npos);
  CHECK(count(r.err, "[vkmind] prompt") == 1);
}

TEST_CASE("chat: a trailing backslash continues the message - -n cuts are said", "[cli]") {
  auto r = run_cli(chat_args({"-n", "3"}), {"first line \\\nsecond line\n"});
  CHECK(r.status == 0);
  CHECK(count(r.err, "[vkmind] prompt") == 1);
  CHECK(r.out.find("(reply cut at 3 tokens: -n)") != std::string::npos);
}

TEST_CASE("chat: turn 2 reuses turn 1's tokens and says how many", "[cli]") {
  auto r = run_cli(chat_args({"-n", "4"}), {"Hello\nHello again\n"});
  REQUIRE(r.status == 0);
  const auto second = r.err.rfind("[vkmind] prompt ");
  REQUIRE(second != std::string::npos);
  unsigned total = 0, cached = 0, computed = 0;
  REQUIRE(std::sscanf(r.err.c_str() + second, "[vkmind] prompt %u tokens (%u cached, %u computed", &total, &cached,
                      &computed) == 3);
  const auto first = r.err.find("[vkmind] prompt ");
  unsigned first_total = 0;
  REQUIRE(std::sscanf(r.err.c_str() + first, "[vkmind] prompt %u tokens", &first_total) == 1);
  // Turn 1's prompt is a prefix of turn 2's (its reply is re-rendered by the
  // template): the prefix cache hands back every full 16-token KV block of it.
  CHECK(first_total >= 16);
  CHECK(cached >= (first_total - 1) / 16 * 16);
  CHECK(cached % 16 == 0);
  CHECK(cached + computed == total);
}
