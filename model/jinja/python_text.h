// Text forms of values exactly as Python writes them, because templates print
// values with str(), and tojson is Python's json.dumps: str(), repr(), the
// shortest round-trip float, and JSON.
#pragma once

#include <optional>
#include <string>

#include "model/jinja/value.h"

namespace vkmind::jinja {

std::string python_float_repr(double d);
std::string python_repr(const Value& v);
// str(v); undefined is the empty string, as jinja2 prints it.
std::string python_str(const Value& v);

struct JsonOptions {
  std::optional<int> indent;  // none: one line
  std::optional<std::string> item_separator;  // default ", " (one line) or "," (indented)
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;  // the Hub's tojson writes UTF-8
};
// Python's json.dumps(v, ...); throws TemplateError for values JSON has no form for.
std::string json_dumps(const Value& v, const JsonOptions& options);

}  // namespace vkmind::jinja
