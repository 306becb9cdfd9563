// The model's own Jinja template is what renders chats now; for the models
// whose hand-written family rendering earlier tests pinned (MiniMind, the
// oracle checkpoints' ChatML), the Jinja rendering must be the same text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "model/jinja/error.h"
#include "model/tokenizer/chat_formatter.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/shared_data.h"

using namespace vkmind::tok;
using Msgs = std::vector<ChatMessage>;

namespace {

std::vector<Msgs> conversations() {
  return {
      Msgs{{"system", "You are helpful."}, {"user", "Hi"}},
      Msgs{{"user", "Hi"}},
      Msgs{{"user", "Hi"}, {"assistant", "<think>\nhmm\n</think>\n\nHello!"}, {"user", "Bye"}, {"assistant", "See you"}},
      Msgs{{"user", "Q"}, {"tool", "r1"}, {"tool", "r2"}},
      Msgs{{"system", "S"}, {"user", "a"}, {"assistant", "b"}, {"user", "你好"}},
  };
}

std::vector<ChatOptions> option_sets() {
  ChatOptions off, on, no_prompt;
  on.enable_thinking = true;
  no_prompt.add_generation_prompt = false;
  return {off, on, no_prompt};
}

bool has_tool_turn(const Msgs& m) {
  return std::any_of(m.begin(), m.end(), [](const ChatMessage& c) { return c.role == "tool"; });
}

// `with_tool_turns` false: the plain ChatML template writes tool turns as
// <|im_start|>tool, where the chatml family wrote Qwen's <tool_response>;
// the model's template is the truth, and no earlier test pinned those.
void check_same_as_family(const Tokenizer& tok, const std::string& label, bool with_tool_turns) {
  std::string warning;
  const ChatFormatter jinja = ChatFormatter::for_tokenizer(tok, warning);
  INFO(label);
  CHECK(warning.empty());
  REQUIRE(jinja.is_jinja());
  CHECK(jinja.name() == "jinja");
  CHECK(jinja.description() == "model's own Jinja template (" + std::to_string(tok.chat_template().size()) + " bytes)");
  const ChatTemplate family = detect_chat_template(tok.chat_template()).tmpl;
  for (const Msgs& m : conversations()) {
    if (!with_tool_turns && has_tool_turn(m)) continue;
    for (const ChatOptions& o : option_sets()) {
      CHECK(jinja.render(m, o) == render_chat(family, m, o));
    }
  }
}

}  // namespace

TEST_CASE("MiniMind's own template renders as the hand-written minimind family did", "[tokenizer][chat][jinja]") {
  const auto p = vkmind::test::shared_file("tokenizers/minimind/tokenizer.json");
  if (p.empty()) return;
  auto tok = load_tokenizer_from_hf_folder(std::filesystem::path(p).parent_path().string());
  check_same_as_family(*tok, "minimind", true);
}

TEST_CASE("The oracle checkpoints' ChatML template renders as the chatml family", "[tokenizer][chat][jinja]") {
  const std::filesystem::path golden = std::filesystem::path(VKMIND_SOURCE_DIR) / "tests/reference/golden";
  int checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(golden)) {
    for (const auto& model : {e.path() / "model.gguf", e.path() / "hf"}) {
      if (!std::filesystem::exists(model)) continue;
      auto tok = load_tokenizer(model.string());
      if (tok->chat_template().empty()) continue;
      check_same_as_family(*tok, model.string(), false);
      ++checked;
    }
  }
  CHECK(checked > 0);
}

TEST_CASE("Named families and template files", "[tokenizer][chat][jinja]") {
  const ChatFormatter family = ChatFormatter::from_family(*chat_template_by_name("llama3"));
  CHECK_FALSE(family.is_jinja());
  CHECK(family.name() == "llama3");
  CHECK(family.description() == "built-in llama3 template");

  const ChatFormatter file = ChatFormatter::from_jinja(
      "{{ bos_token }}{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{{ eos_token }}", "<s>", "</s>", "t.jinja");
  CHECK(file.render(Msgs{{"user", "Hi"}}, ChatOptions{}) == "<s>user: Hi\n</s>");
  CHECK(file.description() == "t.jinja (95 bytes)");
  CHECK_THROWS_AS(ChatFormatter::from_jinja("{% if %}", "", ""), vkmind::jinja::TemplateError);

  // OpenAI text parts reach the fallback families as one string.
  const auto parts = nlohmann::ordered_json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}])");
  CHECK(ChatFormatter::from_family(*chat_template_by_name("chatml")).render_json(parts, nullptr, ChatOptions{}) ==
        "<|im_start|>user\nab<|im_end|>\n<|im_start|>assistant\n");
}
