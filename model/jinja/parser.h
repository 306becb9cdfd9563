// Builds the statement tree from tokens, following jinja2's grammar and
// operator precedence. Statements it does not implement (include, import,
// extends, block, call, ...) are refused here with their name and line.
#pragma once

#include <string_view>

#include "model/jinja/ast.h"

namespace vkmind::jinja {

Body parse_template(std::string_view source);

}  // namespace vkmind::jinja
