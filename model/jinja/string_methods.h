// Python's str methods that chat templates call (startswith, split, strip,
// format, ...), as bound callables.
#pragma once

#include <optional>
#include <string>

#include "model/jinja/value.h"

namespace vkmind::jinja {

// The method `name` bound to the string `self`, or nullopt if str has none
// that vkmind implements.
std::optional<Value> string_method(const std::string& self, const std::string& name);

std::string python_capitalize(const std::string& s);

// Python's str.split(sep, maxsplit) and str.rsplit; sep null: runs of whitespace.
std::vector<Value> python_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right);

}  // namespace vkmind::jinja
