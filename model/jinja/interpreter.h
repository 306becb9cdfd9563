// Runs a parsed template: statements write to the output, expressions
// evaluate to Values. Scoping follows jinja2: each for-loop iteration and
// each macro call gets its own scope (sets inside do not leak out, which is
// why templates use namespace()); if blocks do not.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "model/jinja/ast.h"

namespace vkmind::jinja {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;

  const Value* lookup(const std::string& name) const;
};

// Renders `body` with `globals` (functions, then the caller's variables) as
// the outermost scope. Throws TemplateError with the line at fault.
std::string render_body(const Body& body, std::shared_ptr<Scope> globals);

}  // namespace vkmind::jinja
