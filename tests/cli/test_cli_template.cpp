// `vkmind template` and the chat-template line of `vkmind info`: the model's
// own Jinja template renders conversations; a template file can be checked
// with --template; errors name the template line.
#include "tests/cli/cli_helpers.h"
#include "tests/scratch_dir.h"

using namespace vkmind::test;

TEST_CASE("template renders a conversation with the model's own Jinja template", "[cli]") {
  ScratchDir dir;
  const std::string conv = dir.write("conv.json", R"([{"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"}])");
  // The oracle checkpoints carry a plain ChatML template.
  auto r = run_cli({"template", "-m", tiny_gguf(), "--messages", conv});
  REQUIRE(r.status == 0);
  CHECK(r.out == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  auto hf = run_cli({"template", "-m", tiny_hf(), "--messages", conv});
  REQUIRE(hf.status == 0);
  CHECK(hf.out == r.out);

  const std::string plain = dir.write("plain.json", R"([{"role": "user", "content": "Hi"}])");
  auto no_prompt = run_cli({"template", "-m", tiny_gguf(), "--messages", plain, "--no-generation-prompt"});
  REQUIRE(no_prompt.status == 0);
  CHECK(no_prompt.out == "<|im_start|>user\nHi<|im_end|>\n");
}

TEST_CASE("template --template renders a file with tools, bos/eos and thinking", "[cli]") {
  ScratchDir dir;
  const std::string tmpl = dir.write("t.jinja",
                                     "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content }}]\n"
                                     "{% endfor %}{% if tools %}tools={{ tools|map(attribute='function.name')|join(',') }}\n"
                                     "{% endif %}{% if add_generation_prompt %}>{% endif %}{{ enable_thinking }}{{ eos_token }}");
  const std::string conv = dir.write("conv.json", R"({"messages": [{"role": "user", "content": "Hi"}]})");
  const std::string tools = dir.write("tools.json", R"([{"type": "function", "function": {"name": "get_weather"}}])");
  auto r = run_cli({"template", "--template", tmpl, "--messages", conv, "--tools", tools, "--bos", "<s>", "--eos", "</s>",
                    "--thinking"});
  REQUIRE(r.status == 0);
  CHECK(r.out == "<s>[user:Hi]\ntools=get_weather\n>True</s>");
  auto off = run_cli({"template", "--template", tmpl, "--messages", conv, "--no-generation-prompt"});
  REQUIRE(off.status == 0);
  CHECK(off.out == "[user:Hi]\nFalse");
}

TEST_CASE("template errors: the template's own exception with its line, usage errors", "[cli]") {
  ScratchDir dir;
  const std::string tmpl = dir.write("t.jinja", "ok\n{% if messages[0].role != 'system' %}{{ raise_exception('need a system turn') }}{% endif %}");
  const std::string conv = dir.write("conv.json", R"([{"role": "user", "content": "Hi"}])");
  auto r = run_cli({"template", "--template", tmpl, "--messages", conv});
  CHECK(r.status == 1);
  CHECK(r.err.find("template line 2") != std::string::npos);
  CHECK(r.err.find("need a system turn") != std::string::npos);

  const std::string bad = dir.write("bad.jinja", "{% for x in y %}\n{% include 'other' %}{% endfor %}");
  auto unsupported = run_cli({"template", "--template", bad, "--messages", conv});
  CHECK(unsupported.status == 1);
  CHECK(unsupported.err.find("template line 2: unsupported statement '{% include %}'") != std::string::npos);

  CHECK(run_cli({"template", "--messages", conv}).status == 2);
  CHECK(run_cli({"template", "-m", tiny_gguf(), "--template", tmpl, "--messages", conv}).status == 2);
}

TEST_CASE("info says which chat template runs", "[cli]") {
  auto r = run_cli({"info", "-m", tiny_gguf()});
  REQUIRE(r.status == 0);
  CHECK(r.out.find("chat template:  model's own Jinja template (") != std::string::npos);
}
