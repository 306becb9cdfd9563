// jinja2's tests: `x is defined`, `x is string`, `x is divisibleby 3`, ...
#include <cmath>

#include "model/jinja/builtins.h"
#include "model/jinja/error.h"
#include "model/jinja/operators.h"
#include "model/jinja/utf8_text.h"

namespace vkmind::jinja {

namespace {

const Value& argument(const CallArgs& args, const std::string& test) {
  const Value* v = args.get(0, "");
  if (!v) throw TemplateError("test '" + test + "' needs an argument");
  return *v;
}

}  // namespace

bool is_known_test(const std::string& name) {
  static const char* const kNames[] = {"defined", "undefined", "none", "string", "number", "integer", "float", "boolean",
                                       "true", "false", "mapping", "iterable", "sequence", "callable", "equalto", "eq",
                                       "==", "ne", "!=", "lt", "lessthan", "<", "gt", "greaterthan", ">", "le", "<=",
                                       "ge", ">=", "in", "sameas", "odd", "even", "divisibleby", "lower", "upper"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& args) {
  using K = Value::Kind;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();  // Python's bool is a Number
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "mapping") return v.kind() == K::Dict;
  if (name == "iterable") return v.kind() == K::Iterator || v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (name == "sequence") return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
  if (name == "callable") return v.is_callable();
  if (name == "equalto" || name == "eq" || name == "==") return py_equal(v, argument(args, name));
  if (name == "ne" || name == "!=") return !py_equal(v, argument(args, name));
  if (name == "lt" || name == "lessthan" || name == "<") return py_less(v, argument(args, name));
  if (name == "gt" || name == "greaterthan" || name == ">") return py_less(argument(args, name), v);
  if (name == "le" || name == "<=") return py_compare("<=", v, argument(args, name));
  if (name == "ge" || name == ">=") return py_compare(">=", v, argument(args, name));
  if (name == "in") return py_contains(argument(args, name), v);
  if (name == "sameas") {
    const Value& o = argument(args, name);
    if (v.is_none() || v.is_bool() || o.is_none() || o.is_bool()) return v.kind() == o.kind() && py_equal(v, o);
    if (v.is_sequence() || v.is_mapping()) return v.kind() == o.kind() && (v.is_sequence() ? &v.items() == &o.items() : v.dict_ptr() == o.dict_ptr());
    return v.kind() == o.kind() && py_equal(v, o);
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (v.is_undefined()) fail_undefined(v);
    if (!v.is_number()) throw TemplateError("test '" + name + "' needs a number, not " + type_name(v));
    const int64_t x = v.as_int();
    if (name == "odd") return x % 2 != 0;
    if (name == "even") return x % 2 == 0;
    const Value& d = argument(args, name);
    if (d.as_int() == 0) throw TemplateError("integer modulo by zero");
    return x % d.as_int() == 0;
  }
  if (name == "lower" || name == "upper") {
    if (!v.is_string()) return false;
    return name == "lower" ? unicode_lower(v.as_string()) == v.as_string() && unicode_upper(v.as_string()) != v.as_string()
                           : unicode_upper(v.as_string()) == v.as_string() && unicode_lower(v.as_string()) != v.as_string();
  }
  throw TemplateError("no test named '" + name + "'");
}

}  // namespace vkmind::jinja
