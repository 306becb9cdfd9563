// A Jinja2-subset template: parse once, render many times. The subset is
// what Hugging Face chat templates use, rendered as the Hub renders them
// (trim_blocks, lstrip_blocks, loop controls, {% generation %}, the Hub's
// tojson, raise_exception, strftime_now). Anything outside the subset is a
// TemplateError naming the construct and the line, never silently wrong text.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/jinja/ast.h"
#include "model/jinja/error.h"
#include "model/jinja/value.h"

namespace vkmind::jinja {

class Template {
 public:
  explicit Template(std::string_view source);  // throws TemplateError
  // Renders with `variables` (messages, tools, add_generation_prompt, ...);
  // names the template reads but nobody set are Undefined.
  std::string render(const Dict& variables) const;

 private:
  std::shared_ptr<const Body> body_;
};

// JSON (key order kept) as template values: objects become dicts, arrays lists.
Value from_json(const nlohmann::ordered_json& j);

}  // namespace vkmind::jinja
