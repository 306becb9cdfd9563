// The parsed template: expressions and statements, each with its source line
// for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/jinja/value.h"

namespace vkmind::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keywords;
};

struct Expr {
  enum class Kind {
    Literal,    // value
    Name,       // name
    List,       // items
    Tuple,      // items
    Dict,       // items as key, value, key, value, ...
    GetAttr,    // a.name
    GetItem,    // a[b]
    Slice,      // a[b:c:d], absent parts are null
    Call,       // a(args)
    Filter,     // a | name(args); a is null in {% filter %} blocks
    Test,       // a is [not] name(args)
    Unary,      // op: "-", "+", "not"
    Binary,     // op: + - * / // % ** ~ and or
    Compare,    // a op b [op c ...]: ops and items
    Condition,  // a if b else c; c may be null
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;  // Name, GetAttr, Filter, Test; the operator of Unary/Binary
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;  // Compare
  Arguments args;
  bool negated = false;  // Test
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null: required
};

struct Stmt {
  enum class Kind {
    Text,      // text
    Output,    // {{ expr }}
    If,        // conditions[i] guards bodies[i]; an extra body is the else
    For,       // targets in expr [if filter] body; bodies[1] is the else
    Set,       // target = expr; target: Name, Tuple of names, or GetAttr of a name
    SetBlock,  // {% set name %}body{% endset %}, optional filter chain in expr
    Macro,     // name(params) body
    FilterBlock,  // {% filter f %}body{% endfilter %}: filter chain in expr (innermost a = null)
    Break,
    Continue,
  };
  Kind kind;
  int line = 0;
  std::string text;  // Text, SetBlock's and Macro's name
  ExprPtr expr;      // Output, For iterable, Set value, filter chains
  ExprPtr target;    // For, Set
  ExprPtr filter;    // For's inline `if`
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  std::vector<MacroParam> params;
};

}  // namespace vkmind::jinja
