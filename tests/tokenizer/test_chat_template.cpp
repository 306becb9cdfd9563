// Chat templates: family detection from real template text and rendering of
// each family. The MiniMind expectations were rendered from its
// tokenizer_config.json template with Jinja2.
#include <catch2/catch.hpp>

#include <filesystem>
#include <vector>

#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"
#include "tests/shared_data.h"

using namespace vkmind::tok;
using Msgs = std::vector<ChatMessage>;

namespace {

ChatTemplate minimind_template() {
  const auto p = vkmind::test::shared_file("tokenizers/minimind/tokenizer.json");
  if (p.empty()) return *chat_template_by_name("minimind");
  auto tok = load_tokenizer_from_hf_folder(std::filesystem::path(p).parent_path().string());
  const auto d = detect_chat_template(tok->chat_template());
  CHECK(d.warning.empty());
  return d.tmpl;
}

}  // namespace

TEST_CASE("MiniMind's template is detected and rendered as Jinja does", "[tokenizer][chat]") {
  const ChatTemplate t = minimind_template();
  CHECK(t.name() == "minimind");

  ChatOptions off;  // generation prompt, thinking off
  CHECK(render_chat(t, Msgs{{"system", "You are helpful."}, {"user", "Hi"}}, off) ==
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n\n</think>\n\n");

  ChatOptions on;
  on.enable_thinking = true;
  CHECK(render_chat(t, Msgs{{"user", "Hi"}}, on) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n");

  ChatOptions history;
  history.add_generation_prompt = false;
  CHECK(render_chat(t,
                    Msgs{{"user", "Hi"},
                         {"assistant", "<think>\nhmm\n</think>\n\nHello!"},
                         {"user", "Bye"},
                         {"assistant", "See you"}},
                    history) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nhmm\n</think>\n\nHello!<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nSee you<|im_end|>\n");

  CHECK(render_chat(t, Msgs{{"user", "Q"}, {"tool", "r1"}, {"tool", "r2"}}, off) ==
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n"
        "<tool_response>\nr2\n</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST_CASE("Rendered ChatML encodes to the special ids", "[tokenizer][chat]") {
  const auto p = vkmind::test::shared_file("tokenizers/minimind/tokenizer.json");
  if (p.empty()) return;
  auto tok = load_tokenizer_from_hf_folder(std::filesystem::path(p).parent_path().string());
  const auto text = render_chat(*chat_template_by_name("minimind"), Msgs{{"user", "你好"}}, ChatOptions{});
  const auto ids = tok->encode(text, false, true);
  CHECK(ids.front() == 1);                                       // <|im_start|>
  CHECK(std::count(ids.begin(), ids.end(), 25) == 1);           // <think>
  CHECK(std::count(ids.begin(), ids.end(), 26) == 1);           // </think>
  CHECK(tok->decode(ids) == text);
}

TEST_CASE("Plain ChatML and Qwen3 thinking", "[tokenizer][chat]") {
  const auto plain = detect_chat_template(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
      "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
  CHECK(plain.warning.empty());
  CHECK(plain.tmpl.name() == "chatml");
  CHECK(render_chat(plain.tmpl, Msgs{{"user", "Hi"}}, ChatOptions{}) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");

  const auto qwen3 = detect_chat_template(
      "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
      "<|im_start|>");
  CHECK(qwen3.tmpl.name() == "qwen3");
  CHECK(render_chat(qwen3.tmpl, Msgs{{"user", "Hi"}}, ChatOptions{}) ==
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  ChatOptions think;
  think.enable_thinking = true;
  CHECK(render_chat(qwen3.tmpl, Msgs{{"user", "Hi"}}, think) == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  // Qwen3 drops reasoning of turns before the last user message.
  ChatOptions hist;
  hist.add_generation_prompt = false;
  CHECK(render_chat(qwen3.tmpl, Msgs{{"user", "a"}, {"assistant", "<think>\nr\n</think>\n\nb"}, {"user", "c"}}, hist) ==
        "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n<|im_start|>user\nc<|im_end|>\n");
}

TEST_CASE("Llama-2 [INST] with <<SYS>>", "[tokenizer][chat]") {
  const auto d = detect_chat_template(
      "{% if messages[0]['role'] == 'system' %}...{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
      "{{ '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' }}");
  CHECK(d.warning.empty());
  REQUIRE(d.tmpl.name() == "llama2");
  // As in the reference, strip() applies after the system block is joined:
  // the user text's leading space survives, its trailing one does not.
  CHECK(render_chat(d.tmpl, Msgs{{"system", "Be brief."}, {"user", " Hi "}, {"assistant", "Hello.\n"}, {"user", "Bye"}},
                    ChatOptions{}) ==
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n Hi [/INST] Hello. </s><s>[INST] Bye [/INST]");
  CHECK(render_chat(d.tmpl, Msgs{{"user", "Hi"}}, ChatOptions{}) == "<s>[INST] Hi [/INST]");
}

TEST_CASE("Llama-3 header tokens", "[tokenizer][chat]") {
  const auto d = detect_chat_template(
      "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + "
      "'<|eot_id|>' %}");
  REQUIRE(d.tmpl.name() == "llama3");
  CHECK(render_chat(d.tmpl, Msgs{{"system", "S"}, {"user", "Hi\n"}}, ChatOptions{}) ==
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("Unknown or missing templates fall back to ChatML with a warning", "[tokenizer][chat]") {
  // Phi-3's template is none of the known families.
  const auto phi3 = detect_chat_template(
      "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + "
      "message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% endif %}{% endfor %}");
  CHECK(phi3.tmpl.name() == "chatml");
  CHECK_FALSE(phi3.warning.empty());
  const auto none = detect_chat_template("");
  CHECK(none.tmpl.name() == "chatml");
  CHECK_FALSE(none.warning.empty());
}

TEST_CASE("Template override by name", "[tokenizer][chat]") {
  for (const char* n : {"chatml", "qwen3", "minimind", "llama2", "llama3"}) {
    auto t = chat_template_by_name(n);
    REQUIRE(t);
    CHECK(t->name() == n);
  }
  CHECK_FALSE(chat_template_by_name("vicuna"));
}
