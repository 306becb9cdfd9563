// Python's semantics for the operators templates use: ==, <, in, + - * / //
// % **, unary minus, with jinja2's Undefined raising where it raises.
#pragma once

#include <string>

#include "model/jinja/value.h"

namespace vkmind::jinja {

// Raises jinja2's UndefinedError for an undefined value.
[[noreturn]] void fail_undefined(const Value& v);

bool py_equal(const Value& a, const Value& b);
// a < b; raises TypeError for unorderable types as Python does.
bool py_less(const Value& a, const Value& b);
bool py_compare(const std::string& op, const Value& a, const Value& b);
bool py_contains(const Value& container, const Value& item);
Value py_binary(const std::string& op, const Value& a, const Value& b);
Value py_negate(const Value& v, bool minus);
// markupsafe.escape() of a string.
std::string html_escape(const std::string& s);

}  // namespace vkmind::jinja
