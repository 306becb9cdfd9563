#include "model/jinja/parser.h"

#include <initializer_list>

#include "model/jinja/error.h"
#include "model/jinja/lexer.h"

namespace vkmind::jinja {

namespace {

using T = Token::Type;

ExprPtr make_expr(Expr::Kind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

std::unique_ptr<Stmt> make_stmt(Stmt::Kind kind, int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->line = line;
  return s;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Body parse_all() {
    Body body;
    std::string end = parse_body(body, {});
    if (!end.empty()) fail("unexpected '{% " + end + " %}'");
    return body;
  }

 private:
  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  void next() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  [[noreturn]] void fail(const std::string& what) const { throw TemplateError(what, cur().line); }

  bool is_op(std::string_view op) const { return cur().type == T::Operator && cur().text == op; }
  bool is_name(std::string_view name) const { return cur().type == T::Name && cur().text == name; }
  bool skip_op(std::string_view op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(std::string_view name) {
    if (!is_name(name)) return false;
    next();
    return true;
  }
  void expect_op(std::string_view op) {
    if (!skip_op(op)) fail("expected '" + std::string(op) + "', found " + describe(cur()));
  }
  std::string expect_name() {
    if (cur().type != T::Name) fail("expected a name, found " + describe(cur()));
    std::string n = cur().text;
    next();
    return n;
  }
  void expect_block_end() {
    if (cur().type != T::BlockEnd) fail("expected the end of the statement ('%}'), found " + describe(cur()));
    next();
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case T::Data: return "template text";
      case T::BlockBegin: return "'{%'";
      case T::BlockEnd: return "'%}'";
      case T::VariableBegin: return "'{{'";
      case T::VariableEnd: return "'}}'";
      case T::End: return "the end of the template";
      case T::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }

  // Parses statements into `body` until a `{% name %}` with a name in `ends`
  // (left unconsumed after the name; returned) or the end of the template.
  std::string parse_body(Body& body, std::initializer_list<std::string_view> ends) {
    for (;;) {
      const Token& t = cur();
      if (t.type == T::End) {
        if (ends.size()) {
          std::string want;
          for (auto e : ends) want += (want.empty() ? "" : " or ") + std::string("'{% ") + std::string(e) + " %}'";
          fail("unexpected end of template: expected " + want);
        }
        return "";
      }
      if (t.type == T::Data) {
        auto s = make_stmt(Stmt::Kind::Text, t.line);
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == T::VariableBegin) {
        next();
        auto s = make_stmt(Stmt::Kind::Output, cur().line);
        s->expr = parse_tuple(true, {});
        if (cur().type != T::VariableEnd) fail("expected '}}', found " + describe(cur()));
        next();
        body.push_back(std::move(s));
      } else if (t.type == T::BlockBegin) {
        next();
        if (cur().type != T::Name) fail("expected a statement name after '{%', found " + describe(cur()));
        for (auto e : ends) {
          if (cur().text == e) {
            std::string name = cur().text;
            next();
            return name;
          }
        }
        parse_statement(body);
      } else {
        fail("unexpected " + describe(t));
      }
    }
  }

  void parse_statement(Body& body) {
    const int line = cur().line;
    const std::string name = cur().text;
    next();
    if (name == "if") {
      body.push_back(parse_if(line));
    } else if (name == "for") {
      body.push_back(parse_for(line));
    } else if (name == "set") {
      body.push_back(parse_set(line));
    } else if (name == "macro") {
      body.push_back(parse_macro(line));
    } else if (name == "filter") {
      auto s = make_stmt(Stmt::Kind::FilterBlock, line);
      s->expr = parse_filter(nullptr, true);
      expect_block_end();
      s->bodies.emplace_back();
      parse_body(s->bodies.back(), {"endfilter"});
      expect_block_end();
      body.push_back(std::move(s));
    } else if (name == "generation") {
      // The Hub's AssistantTracker extension: only marks the body, renders it as is.
      expect_block_end();
      parse_body(body, {"endgeneration"});
      expect_block_end();
    } else if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) throw TemplateError("'" + name + "' outside of a loop", line);
      expect_block_end();
      body.push_back(make_stmt(name == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, line));
    } else {
      throw TemplateError("unsupported statement '{% " + name + " %}' (vkmind's Jinja subset has no " + name + ")", line);
    }
  }

  std::unique_ptr<Stmt> parse_if(int line) {
    auto s = make_stmt(Stmt::Kind::If, line);
    for (;;) {
      s->conditions.push_back(parse_tuple(false, {}));
      expect_block_end();
      s->bodies.emplace_back();
      const std::string end = parse_body(s->bodies.back(), {"elif", "else", "endif"});
      if (end == "elif") continue;
      if (end == "else") {
        expect_block_end();
        s->bodies.emplace_back();
        parse_body(s->bodies.back(), {"endif"});
      }
      expect_block_end();
      return s;
    }
  }

  std::unique_ptr<Stmt> parse_for(int line) {
    auto s = make_stmt(Stmt::Kind::For, line);
    s->target = parse_assign_target({"in"});
    if (!skip_name("in")) fail("expected 'in' in the for statement, found " + describe(cur()));
    s->expr = parse_tuple(false, {"recursive"});
    if (skip_name("if")) s->filter = parse_expression(true);
    if (is_name("recursive")) throw TemplateError("unsupported: recursive for loops", line);
    expect_block_end();
    s->bodies.emplace_back();
    ++loop_depth_;
    std::string end = parse_body(s->bodies.back(), {"endfor", "else"});
    --loop_depth_;
    if (end == "else") {
      expect_block_end();
      s->bodies.emplace_back();
      parse_body(s->bodies.back(), {"endfor"});
    }
    expect_block_end();
    return s;
  }

  std::unique_ptr<Stmt> parse_set(int line) {
    // {% set ns.attr = ... %}
    ExprPtr target;
    if (cur().type == T::Name && peek().type == T::Operator && peek().text == ".") {
      target = make_expr(Expr::Kind::GetAttr, cur().line);
      target->a = make_expr(Expr::Kind::Name, cur().line);
      target->a->name = expect_name();
      next();
      target->name = expect_name();
    } else {
      target = parse_assign_target({});
    }
    if (skip_op("=")) {
      auto s = make_stmt(Stmt::Kind::Set, line);
      s->target = std::move(target);
      s->expr = parse_tuple(true, {});
      expect_block_end();
      return s;
    }
    if (target->kind != Expr::Kind::Name) fail("a block set ({% set x %}...{% endset %}) needs a plain name");
    auto s = make_stmt(Stmt::Kind::SetBlock, line);
    s->text = target->name;
    if (is_op("|")) s->expr = parse_filter(nullptr, false);
    expect_block_end();
    s->bodies.emplace_back();
    parse_body(s->bodies.back(), {"endset"});
    expect_block_end();
    return s;
  }

  std::unique_ptr<Stmt> parse_macro(int line) {
    auto s = make_stmt(Stmt::Kind::Macro, line);
    s->text = expect_name();
    expect_op("(");
    while (!is_op(")")) {
      if (!s->params.empty()) expect_op(",");
      if (is_op(")")) break;
      MacroParam p;
      p.name = expect_name();
      if (skip_op("=")) p.default_value = parse_expression(true);
      s->params.push_back(std::move(p));
    }
    expect_op(")");
    expect_block_end();
    s->bodies.emplace_back();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    parse_body(s->bodies.back(), {"endmacro"});
    loop_depth_ = saved;
    // {% endmacro name %} is allowed by jinja2? No: only {% endmacro %}.
    expect_block_end();
    return s;
  }

  // A name or a tuple of names (for-loop and set targets).
  ExprPtr parse_assign_target(std::initializer_list<std::string_view> end_names) {
    const int line = cur().line;
    std::vector<ExprPtr> names;
    bool tuple = false;
    for (;;) {
      if (!names.empty()) expect_op(",");
      if (is_tuple_end(end_names) || is_op("=")) break;
      ExprPtr e = parse_primary();
      if (e->kind != Expr::Kind::Name && e->kind != Expr::Kind::Tuple) fail("cannot assign to this expression");
      names.push_back(std::move(e));
      if (is_op(",")) {
        tuple = true;
      } else {
        break;
      }
    }
    if (names.empty()) fail("expected an assignment target");
    if (!tuple) return std::move(names[0]);
    auto t = make_expr(Expr::Kind::Tuple, line);
    t->items = std::move(names);
    return t;
  }

  bool is_tuple_end(std::initializer_list<std::string_view> end_names) const {
    const Token& t = cur();
    if (t.type == T::VariableEnd || t.type == T::BlockEnd || (t.type == T::Operator && t.text == ")")) return true;
    if (t.type == T::Name) {
      for (auto n : end_names) {
        if (t.text == n) return true;
      }
    }
    return false;
  }

  ExprPtr parse_tuple(bool with_condexpr, std::initializer_list<std::string_view> end_names, bool explicit_parens = false) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool tuple = false;
    for (;;) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(end_names)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) {
        tuple = true;
      } else {
        break;
      }
    }
    if (!tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) fail("expected an expression, found " + describe(cur()));
    }
    auto t = make_expr(Expr::Kind::Tuple, line);
    t->items = std::move(items);
    return t;
  }

  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const int line = cur().line;
      next();
      auto c = make_expr(Expr::Kind::Condition, line);
      c->b = parse_or();
      if (skip_name("else")) c->c = parse_condexpr();
      c->a = std::move(e);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(std::string op, ExprPtr l, ExprPtr r, int line) {
    auto e = make_expr(Expr::Kind::Binary, line);
    e->name = std::move(op);
    e->a = std::move(l);
    e->b = std::move(r);
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr l = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      next();
      l = binary("or", std::move(l), parse_and(), line);
    }
    return l;
  }

  ExprPtr parse_and() {
    ExprPtr l = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      next();
      l = binary("and", std::move(l), parse_not(), line);
    }
    return l;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      auto e = make_expr(Expr::Kind::Unary, cur().line);
      next();
      e->name = "not";
      e->a = parse_not();
      return e;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> rest;
    for (;;) {
      if (cur().type == T::Operator &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == "<=" || cur().text == ">" ||
           cur().text == ">=")) {
        ops.push_back(cur().text);
        next();
      } else if (is_name("in")) {
        ops.push_back("in");
        next();
      } else if (is_name("not") && peek().type == T::Name && peek().text == "in") {
        ops.push_back("not in");
        next();
        next();
      } else {
        break;
      }
      rest.push_back(parse_math1());
    }
    if (ops.empty()) return first;
    auto e = make_expr(Expr::Kind::Compare, line);
    e->ops = std::move(ops);
    e->items.push_back(std::move(first));
    for (auto& r : rest) e->items.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_math1() {
    ExprPtr l = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      l = binary(op, std::move(l), parse_concat(), line);
    }
    return l;
  }

  ExprPtr parse_concat() {
    ExprPtr l = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      next();
      l = binary("~", std::move(l), parse_math2(), line);
    }
    return l;
  }

  ExprPtr parse_math2() {
    ExprPtr l = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      l = binary(op, std::move(l), parse_pow(), line);
    }
    return l;
  }

  ExprPtr parse_pow() {
    ExprPtr l = parse_unary(true);
    while (is_op("**")) {
      const int line = cur().line;
      next();
      l = binary("**", std::move(l), parse_unary(true), line);
    }
    return l;
  }

  ExprPtr parse_unary(bool with_filter) {
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = make_expr(Expr::Kind::Unary, cur().line);
      e->name = cur().text;
      next();
      e->a = parse_unary(false);
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    if (t.type == T::Name) {
      auto e = make_expr(Expr::Kind::Literal, line);
      if (t.text == "true" || t.text == "True") {
        e->value = Value(true);
      } else if (t.text == "false" || t.text == "False") {
        e->value = Value(false);
      } else if (t.text == "none" || t.text == "None") {
        e->value = Value::none();
      } else {
        e->kind = Expr::Kind::Name;
        e->name = t.text;
      }
      next();
      return e;
    }
    if (t.type == T::String) {
      std::string s;
      while (cur().type == T::String) {  // adjacent literals concatenate
        s += cur().text;
        next();
      }
      auto e = make_expr(Expr::Kind::Literal, line);
      e->value = Value(std::move(s));
      return e;
    }
    if (t.type == T::Integer || t.type == T::Float) {
      auto e = make_expr(Expr::Kind::Literal, line);
      try {
        e->value = t.type == T::Integer ? Value(static_cast<int64_t>(std::stoll(t.text))) : Value(std::stod(t.text));
      } catch (const std::exception&) {
        fail("number out of range: " + t.text);
      }
      next();
      return e;
    }
    if (skip_op("(")) {
      ExprPtr e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto e = make_expr(Expr::Kind::List, line);
      while (!is_op("]")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("]")) break;
        e->items.push_back(parse_expression(true));
      }
      expect_op("]");
      return e;
    }
    if (skip_op("{")) {
      auto e = make_expr(Expr::Kind::Dict, line);
      while (!is_op("}")) {
        if (!e->items.empty()) expect_op(",");
        if (is_op("}")) break;
        e->items.push_back(parse_expression(true));
        expect_op(":");
        e->items.push_back(parse_expression(true));
      }
      expect_op("}");
      return e;
    }
    fail("unexpected " + describe(t) + " in an expression");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    for (;;) {
      if (is_op(".") || is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    for (;;) {
      if (is_op("|")) {
        e = parse_filter(std::move(e), false);
      } else if (is_name("is")) {
        e = parse_test(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const int line = cur().line;
    if (skip_op(".")) {
      if (cur().type == T::Name) {
        auto e = make_expr(Expr::Kind::GetAttr, line);
        e->name = cur().text;
        e->a = std::move(obj);
        next();
        return e;
      }
      if (cur().type == T::Integer) {
        auto e = make_expr(Expr::Kind::GetItem, line);
        e->a = std::move(obj);
        e->b = make_expr(Expr::Kind::Literal, line);
        e->b->value = Value(static_cast<int64_t>(std::stoll(cur().text)));
        next();
        return e;
      }
      fail("expected an attribute name after '.', found " + describe(cur()));
    }
    expect_op("[");
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    if (args.empty()) fail("empty subscript");
    ExprPtr index;
    if (args.size() == 1) {
      index = std::move(args[0]);
    } else {
      index = make_expr(Expr::Kind::Tuple, line);
      index->items = std::move(args);
    }
    if (index->kind == Expr::Kind::Slice) {
      index->a = std::move(obj);
      return index;
    }
    auto e = make_expr(Expr::Kind::GetItem, line);
    e->a = std::move(obj);
    e->b = std::move(index);
    return e;
  }

  // An index or a slice start:stop:step; a slice comes back with `a` unset.
  ExprPtr parse_subscribed() {
    const int line = cur().line;
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) return start;
    }
    next();  // ':'
    auto s = make_expr(Expr::Kind::Slice, line);
    s->b = std::move(start);
    if (!is_op("]") && !is_op(",") && !is_op(":")) s->c = parse_expression(true);
    if (skip_op(":")) {
      if (!is_op("]") && !is_op(",")) s->d = parse_expression(true);
    }
    return s;
  }

  Arguments parse_call_args() {
    Arguments args;
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) fail("unsupported: *args / **kwargs in a call");
      if (cur().type == T::Name && peek().type == T::Operator && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        args.keywords.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!args.keywords.empty()) fail("a positional argument follows a keyword argument");
        args.positional.push_back(parse_expression(true));
      }
    }
    expect_op(")");
    return args;
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = make_expr(Expr::Kind::Call, cur().line);
    e->a = std::move(callee);
    e->args = parse_call_args();
    return e;
  }

  ExprPtr parse_filter(ExprPtr obj, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      start_inline = false;
      auto e = make_expr(Expr::Kind::Filter, cur().line);
      e->name = expect_name();
      while (is_op(".")) {
        next();
        e->name += '.';
        e->name += expect_name();
      }
      if (is_op("(")) e->args = parse_call_args();
      e->a = std::move(obj);
      obj = std::move(e);
    }
    return obj;
  }

  ExprPtr parse_test(ExprPtr obj) {
    const int line = cur().line;
    next();  // 'is'
    auto e = make_expr(Expr::Kind::Test, line);
    e->negated = skip_name("not");
    e->name = expect_name();
    while (is_op(".")) {
      next();
      e->name += '.';
      e->name += expect_name();
    }
    if (is_op("(")) {
      e->args = parse_call_args();
    } else if ((cur().type == T::Name || cur().type == T::String || cur().type == T::Integer || cur().type == T::Float ||
                is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail("you cannot chain multiple tests with 'is'");
      e->args.positional.push_back(parse_postfix(parse_primary()));
    }
    e->a = std::move(obj);
    return e;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Body parse_template(std::string_view source) { return Parser(tokenize(source)).parse_all(); }

}  // namespace vkmind::jinja
