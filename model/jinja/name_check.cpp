#include "model/jinja/name_check.h"

#include "model/jinja/builtins.h"
#include "model/jinja/error.h"

namespace vkmind::jinja {

namespace {

// `soft`: inside an if statement or a conditional expression, where jinja2
// defers the check to run time. Loop, macro, block-set and filter-block
// bodies start a new, strict scope, as jinja2's frames do.
void check_expr(const Expr* e, bool soft);

void check_args(const Arguments& args, bool soft) {
  for (const auto& a : args.positional) check_expr(a.get(), soft);
  for (const auto& [k, a] : args.keywords) check_expr(a.get(), soft);
}

void check_expr(const Expr* e, bool soft) {
  if (!e) return;
  if (e->kind == Expr::Kind::Condition) soft = true;
  if (!soft && e->kind == Expr::Kind::Filter && !is_known_filter(e->name)) {
    throw TemplateError("no filter named '" + e->name + "'", e->line);
  }
  if (!soft && e->kind == Expr::Kind::Test && !is_known_test(e->name)) {
    throw TemplateError("no test named '" + e->name + "'", e->line);
  }
  for (const Expr* child : {e->a.get(), e->b.get(), e->c.get(), e->d.get()}) check_expr(child, soft);
  for (const auto& item : e->items) check_expr(item.get(), soft);
  check_args(e->args, soft);
}

void check_body(const Body& body, bool soft);

void check_stmt(const Stmt& s, bool soft) {
  switch (s.kind) {
    case Stmt::Kind::If:
      for (const auto& c : s.conditions) check_expr(c.get(), true);
      for (const auto& b : s.bodies) check_body(b, true);
      return;
    case Stmt::Kind::For:
      check_expr(s.expr.get(), soft);
      check_expr(s.filter.get(), false);
      check_body(s.bodies[0], false);
      if (s.bodies.size() > 1) check_body(s.bodies[1], soft);
      return;
    case Stmt::Kind::Macro:
      for (const auto& p : s.params) check_expr(p.default_value.get(), false);
      check_body(s.bodies[0], false);
      return;
    case Stmt::Kind::SetBlock:
    case Stmt::Kind::FilterBlock:
      check_expr(s.expr.get(), false);
      check_body(s.bodies[0], false);
      return;
    default:
      check_expr(s.expr.get(), soft);
      check_expr(s.target.get(), soft);
      return;
  }
}

void check_body(const Body& body, bool soft) {
  for (const auto& s : body) check_stmt(*s, soft);
}

}  // namespace

void check_filter_and_test_names(const Body& body) { check_body(body, false); }

}  // namespace vkmind::jinja
