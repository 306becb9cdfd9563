// jinja2's built-in filters and tests (the ones chat templates use), with
// the Hub's tojson. An unknown name raises, as jinja2 does when it is reached.
#pragma once

#include <string>

#include "model/jinja/value.h"

namespace vkmind::jinja {

Value apply_filter(const std::string& name, const Value& value, const CallArgs& args);
bool apply_test(const std::string& name, const Value& value, const CallArgs& args);
bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

// The items a for loop (or a filter) iterates: list items, dict keys, string
// characters; Undefined is empty. Raises for values that are not iterable.
std::vector<Value> iterate(const Value& v);

}  // namespace vkmind::jinja
