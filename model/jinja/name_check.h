// jinja2 refuses a whole template at compile time when it names a filter or
// test that does not exist, except where the name sits in an if statement or
// a conditional expression (there it fails only when reached). This check
// reproduces that, so a template jinja2 cannot load is not rendered here.
#pragma once

#include "model/jinja/ast.h"

namespace vkmind::jinja {

// Throws TemplateError naming the first unknown filter or test outside a
// conditional part of the template.
void check_filter_and_test_names(const Body& body);

}  // namespace vkmind::jinja
