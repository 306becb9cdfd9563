// Attribute and item access as jinja2's sandbox does them: `a.b` tries the
// Python attribute (a method such as str.startswith or dict.items) before
// the item, `a['b']` the item before the attribute; a missing one is
// Undefined. Methods that would mutate a list or dict are refused, as the
// Hub's ImmutableSandboxedEnvironment refuses them.
#pragma once

#include <optional>
#include <string>

#include "model/jinja/value.h"

namespace vkmind::jinja {

Value get_attribute(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
Value get_slice(const Value& obj, std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step);

}  // namespace vkmind::jinja
