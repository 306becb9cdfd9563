// Every chat template in ../shared/templates (and MiniMind's own) rendered by
// vkmind's interpreter and by jinja2 (jinja2_render.py, run here with
// Debian's python3-jinja2, set up as the Hub sets it) for the conversations
// in chat_template_cases.json: the texts must be byte-identical, and a
// conversation jinja2 refuses must be refused by vkmind too. No rendered
// third-party text is committed; jinja2 produces the expectations each run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/jinja/template.h"
#include "tests/scratch_dir.h"
#include "tests/shared_data.h"

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using namespace vkmind::jinja;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The cases of chat_template_cases.json that apply to `tmpl`, as variable sets.
ordered_json cases_for(const std::string& tmpl, std::vector<std::string>& names) {
  const ordered_json spec = ordered_json::parse(read_text(fs::path(VKMIND_SOURCE_DIR) / "tests/tokenizer/chat_template_cases.json"));
  ordered_json out = ordered_json::array();
  for (const auto& c : spec["cases"]) {
    if (c.contains("needs") && tmpl.find(c["needs"].get<std::string>()) == std::string::npos) continue;
    ordered_json vars = ordered_json::object();
    for (const auto& [k, v] : c.items()) {
      if (k != "name" && k != "needs" && k != "with_tools") vars[k] = v;
    }
    vars["bos_token"] = "<s>";
    vars["eos_token"] = "</s>";
    // The Hub passes tools=None when none are offered.
    vars["tools"] = c.value("with_tools", false) ? spec["tools"] : ordered_json();
    names.push_back(c["name"].get<std::string>());
    out.push_back(vars);
  }
  return out;
}

bool jinja2_available() {
  return std::system("/usr/bin/python3 -c 'import jinja2' > /dev/null 2>&1") == 0;
}

// Runs jinja2_render.py; returns its JSON list of results.
ordered_json render_with_jinja2(const std::string& template_path, const std::string& cases_path, const std::string& out_path) {
  const std::string script = (fs::path(VKMIND_SOURCE_DIR) / "tests/tokenizer/jinja2_render.py").string();
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + template_path + "' '" + cases_path + "' > '" + out_path + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return ordered_json::parse(read_text(out_path));
}

struct Outcome {
  bool ok;
  std::string text;  // or the error
};

std::vector<Outcome> render_with_vkmind(const std::string& source, const ordered_json& cases) {
  std::vector<Outcome> out;
  std::unique_ptr<Template> tmpl;
  try {
    tmpl = std::make_unique<Template>(source);
  } catch (const TemplateError& e) {
    for (size_t i = 0; i < cases.size(); ++i) out.push_back({false, e.what()});
    return out;
  }
  for (const auto& c : cases) {
    try {
      out.push_back({true, tmpl->render(from_json(c).entries())});
    } catch (const TemplateError& e) {
      out.push_back({false, e.what()});
    }
  }
  return out;
}

void compare_template(const std::string& label, const std::string& source) {
  vkmind::test::ScratchDir scratch;
  std::vector<std::string> names;
  const ordered_json cases = cases_for(source, names);
  const std::string tpath = scratch.write("template.jinja", source);
  const std::string cpath = scratch.write("cases.json", cases.dump());
  const ordered_json expected = render_with_jinja2(tpath, cpath, scratch.path("jinja2.json"));
  REQUIRE(expected.size() == cases.size());
  const std::vector<Outcome> got = render_with_vkmind(source, cases);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(label << " / " << names[i]);
    const bool ok = expected[i]["ok"].get<bool>();
    if (ok) {
      INFO("vkmind: " << (got[i].ok ? "rendered" : "raised: " + got[i].text));
      REQUIRE(got[i].ok);
      CHECK(got[i].text == expected[i]["text"].get<std::string>());
    } else {
      INFO("jinja2 raised: " << expected[i]["error"].get<std::string>());
      CHECK_FALSE(got[i].ok);
    }
  }
}

}  // namespace

TEST_CASE("every shared chat template renders as jinja2 renders it", "[tokenizer][chat][jinja]") {
  const std::string dir = vkmind::test::shared_file("templates");
  if (dir.empty()) return;
  if (!jinja2_available()) {
    if (vkmind::test::running_in_ci()) FAIL("python3-jinja2 is missing under CI (/usr/bin/python3 -c 'import jinja2')");
    WARN("SKIPPED: /usr/bin/python3 has no jinja2 (apt-get install python3-jinja2)");
    return;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".jinja") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  CHECK(files.size() >= 50);
  for (const auto& f : files) {
    SECTION(f.filename().string()) { compare_template(f.filename().string(), read_text(f)); }
  }
}

TEST_CASE("MiniMind's own chat template renders as jinja2 renders it", "[tokenizer][chat][jinja]") {
  const std::string path = vkmind::test::shared_file("tokenizers/minimind/tokenizer_config.json");
  if (path.empty()) return;
  if (!jinja2_available()) {
    if (vkmind::test::running_in_ci()) FAIL("python3-jinja2 is missing under CI");
    WARN("SKIPPED: /usr/bin/python3 has no jinja2");
    return;
  }
  const auto config = ordered_json::parse(read_text(path));
  compare_template("minimind", config["chat_template"].get<std::string>());
}
