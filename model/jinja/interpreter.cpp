#include "model/jinja/interpreter.h"

#include "model/jinja/attributes.h"
#include "model/jinja/builtins.h"
#include "model/jinja/error.h"
#include "model/jinja/operators.h"
#include "model/jinja/python_text.h"

namespace vkmind::jinja {

const Value* Scope::lookup(const std::string& name) const {
  for (const Scope* s = this; s; s = s->parent.get()) {
    if (auto it = s->vars.find(name); it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

namespace {

enum class Flow { Normal, Break, Continue };

// Nested macro calls allowed before a template is deemed to recurse forever.
constexpr int kMaxMacroDepth = 500;

bool expr_reads_name(const Expr* e, const std::string& name) {
  if (!e) return false;
  if (e->kind == Expr::Kind::Name && e->name == name) return true;
  for (const Expr* child : {e->a.get(), e->b.get(), e->c.get(), e->d.get()}) {
    if (expr_reads_name(child, name)) return true;
  }
  for (const auto& item : e->items) {
    if (expr_reads_name(item.get(), name)) return true;
  }
  for (const auto& a : e->args.positional) {
    if (expr_reads_name(a.get(), name)) return true;
  }
  for (const auto& [k, a] : e->args.keywords) {
    if (expr_reads_name(a.get(), name)) return true;
  }
  return false;
}

// Whether a macro body reads `name` (nested macros included, as jinja2 counts them).
bool body_reads_name(const Body& body, const std::string& name) {
  for (const auto& s : body) {
    for (const Expr* e : {s->expr.get(), s->target.get(), s->filter.get()}) {
      if (expr_reads_name(e, name)) return true;
    }
    for (const auto& c : s->conditions) {
      if (expr_reads_name(c.get(), name)) return true;
    }
    for (const auto& p : s->params) {
      if (expr_reads_name(p.default_value.get(), name)) return true;
    }
    for (const auto& b : s->bodies) {
      if (body_reads_name(b, name)) return true;
    }
  }
  return false;
}

using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_of(ScopePtr parent) {
  auto s = std::make_shared<Scope>();
  s->parent = std::move(parent);
  return s;
}

class Interpreter {
 public:
  Flow exec(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const auto& stmt : body) {
      const Flow f = exec_one(*stmt, scope, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

 private:
  Flow exec_one(const Stmt& s, const ScopePtr& scope, std::string& out) {
    try {
      switch (s.kind) {
        case Stmt::Kind::Text: out += s.text; return Flow::Normal;
        case Stmt::Kind::Output: out += python_str(eval(*s.expr, scope)); return Flow::Normal;
        case Stmt::Kind::If:
          for (size_t i = 0; i < s.conditions.size(); ++i) {
            if (eval(*s.conditions[i], scope).truthy()) return exec(s.bodies[i], scope, out);
          }
          if (s.bodies.size() > s.conditions.size()) return exec(s.bodies.back(), scope, out);
          return Flow::Normal;
        case Stmt::Kind::For: exec_for(s, scope, out); return Flow::Normal;
        case Stmt::Kind::Set: assign(*s.target, eval(*s.expr, scope), scope); return Flow::Normal;
        case Stmt::Kind::SetBlock: {
          std::string text;
          exec(s.bodies[0], scope, text);
          Value v(std::move(text));
          if (s.expr) v = apply_filter_chain(*s.expr, v, scope);
          scope->vars[s.text] = v;
          return Flow::Normal;
        }
        case Stmt::Kind::FilterBlock: {
          std::string text;
          exec(s.bodies[0], scope, text);
          out += python_str(apply_filter_chain(*s.expr, Value(std::move(text)), scope));
          return Flow::Normal;
        }
        case Stmt::Kind::Macro: scope->vars[s.text] = make_macro(s, scope); return Flow::Normal;
        case Stmt::Kind::Break: return Flow::Break;
        case Stmt::Kind::Continue: return Flow::Continue;
      }
    } catch (const TemplateError& e) {
      throw e.at_line(s.line);
    }
    return Flow::Normal;
  }

  void exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
    const Value iterable = eval(*s.expr, scope);
    std::vector<Value> items = iterate(iterable);
    if (s.filter) {
      // The inline `if` sees the loop variable (but no `loop`).
      std::vector<Value> kept;
      for (const Value& item : items) {
        auto probe = child_of(scope);
        assign(*s.target, item, probe);
        if (eval(*s.filter, probe).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      if (s.bodies.size() > 1) exec(s.bodies[1], scope, out);
      return;
    }
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      auto iteration = child_of(scope);
      assign(*s.target, items[static_cast<size_t>(i)], iteration);
      iteration->vars["loop"] = loop_object(items, i);
      if (exec(s.bodies[0], iteration, out) == Flow::Break) break;
    }
  }

  static Value loop_object(const std::vector<Value>& items, int64_t i) {
    const int64_t n = static_cast<int64_t>(items.size());
    auto d = std::make_shared<Dict>();
    d->set("index0", Value(i));
    d->set("index", Value(i + 1));
    d->set("revindex0", Value(n - i - 1));
    d->set("revindex", Value(n - i));
    d->set("first", Value(i == 0));
    d->set("last", Value(i == n - 1));
    d->set("length", Value(n));
    d->set("depth", Value(static_cast<int64_t>(1)));
    d->set("depth0", Value(static_cast<int64_t>(0)));
    if (i > 0) d->set("previtem", items[static_cast<size_t>(i - 1)]);
    if (i + 1 < n) d->set("nextitem", items[static_cast<size_t>(i + 1)]);
    d->set("cycle", Value::callable("loop.cycle", [i](const CallArgs& a) -> Value {
      if (a.positional.empty()) throw TemplateError("no items for cycling given");
      return a.positional[static_cast<size_t>(i) % a.positional.size()];
    }));
    return Value::dict(d);
  }

  void assign(const Expr& target, const Value& v, const ScopePtr& scope) {
    switch (target.kind) {
      case Expr::Kind::Name: scope->vars[target.name] = v; return;
      case Expr::Kind::Tuple: {
        std::vector<Value> parts = iterate(v);
        if (parts.size() != target.items.size()) {
          throw TemplateError("cannot unpack " + std::to_string(parts.size()) + " values into " +
                              std::to_string(target.items.size()) + " names");
        }
        for (size_t i = 0; i < parts.size(); ++i) assign(*target.items[i], parts[i], scope);
        return;
      }
      case Expr::Kind::GetAttr: {
        const Value* ns = scope->lookup(target.a->name);
        if (!ns || !ns->is_namespace()) {
          throw TemplateError("cannot assign attribute on non-namespace object '" + target.a->name + "'");
        }
        ns->entries().set(target.name, v);
        return;
      }
      default: throw TemplateError("cannot assign to this expression");
    }
  }

  Value make_macro(const Stmt& s, const ScopePtr& defined_in) {
    const Stmt* macro = &s;
    // Weak: the scope holds the macro, a strong pointer back would leak both.
    std::weak_ptr<Scope> weak_scope = defined_in;
    // As jinja2: extra arguments are accepted only by a macro whose body
    // reads `varargs` (positional) or `kwargs` (keywords).
    const bool takes_varargs = body_reads_name(s.bodies[0], "varargs");
    const bool takes_kwargs = body_reads_name(s.bodies[0], "kwargs");
    return Value::callable(s.text, [this, macro, weak_scope, takes_varargs, takes_kwargs](const CallArgs& args) -> Value {
      ScopePtr outer = weak_scope.lock();
      if (!outer) throw TemplateError("macro '" + macro->text + "' called after its scope ended");
      if (args.positional.size() > macro->params.size() && !takes_varargs) {
        throw TemplateError("macro '" + macro->text + "' takes not more than " + std::to_string(macro->params.size()) +
                            " argument(s)");
      }
      // Python's own recursion limit stops runaway recursion in jinja2.
      if (macro_depth_ >= kMaxMacroDepth) throw TemplateError("macro '" + macro->text + "' recursed too deeply");
      struct DepthGuard {
        int& depth;
        explicit DepthGuard(int& d) : depth(d) { ++depth; }
        ~DepthGuard() { --depth; }
      } guard(macro_depth_);
      auto scope = child_of(outer);
      auto extra_keywords = std::make_shared<Dict>();
      for (const auto& [key, value] : args.keywords) {
        bool known = false;
        for (const auto& p : macro->params) known = known || p.name == key;
        if (known) continue;
        if (!takes_kwargs) throw TemplateError("macro '" + macro->text + "' takes no keyword argument '" + key + "'");
        extra_keywords->set(key, value);
      }
      std::vector<Value> extra_positional;
      for (size_t i = macro->params.size(); i < args.positional.size(); ++i) extra_positional.push_back(args.positional[i]);
      if (takes_varargs) scope->vars["varargs"] = Value::tuple(std::move(extra_positional));
      if (takes_kwargs) scope->vars["kwargs"] = Value::dict(extra_keywords);
      for (size_t i = 0; i < macro->params.size(); ++i) {
        const MacroParam& p = macro->params[i];
        if (i < args.positional.size()) {
          scope->vars[p.name] = args.positional[i];
        } else if (const Value* kw = args.keyword(p.name)) {
          scope->vars[p.name] = *kw;
        } else if (p.default_value) {
          scope->vars[p.name] = eval(*p.default_value, scope);
        } else {
          scope->vars[p.name] = Value::undefined("parameter '" + p.name + "' was not provided");
        }
      }
      std::string out;
      exec(macro->bodies[0], scope, out);
      return Value(std::move(out));
    });
  }

  CallArgs eval_args(const Arguments& a, const ScopePtr& scope) {
    CallArgs args;
    for (const auto& e : a.positional) args.positional.push_back(eval(*e, scope));
    for (const auto& [k, e] : a.keywords) args.keywords.emplace_back(k, eval(*e, scope));
    return args;
  }

  // A filter chain from {% filter %} or {% set x | f %}: the innermost
  // filter's operand is `input`.
  Value apply_filter_chain(const Expr& chain, const Value& input, const ScopePtr& scope) {
    const Value operand = chain.a ? apply_filter_chain(*chain.a, input, scope) : input;
    return apply_filter(chain.name, operand, eval_args(chain.args, scope));
  }

  Value eval(const Expr& e, const ScopePtr& scope) {
    try {
      return eval_inner(e, scope);
    } catch (const TemplateError& err) {
      throw err.at_line(e.line);
    }
  }

  Value eval_inner(const Expr& e, const ScopePtr& scope) {
    switch (e.kind) {
      case Expr::Kind::Literal: return e.value;
      case Expr::Kind::Name: {
        if (const Value* v = scope->lookup(e.name)) return *v;
        return Value::undefined("'" + e.name + "' is undefined");
      }
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        std::vector<Value> items;
        for (const auto& item : e.items) items.push_back(eval(*item, scope));
        return e.kind == Expr::Kind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
      }
      case Expr::Kind::Dict: {
        auto d = std::make_shared<Dict>();
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          const Value key = eval(*e.items[i], scope);
          if (!key.is_string()) throw TemplateError("unsupported: dict keys other than strings (" + python_repr(key) + ")");
          d->set(key.as_string(), eval(*e.items[i + 1], scope));
        }
        return Value::dict(d);
      }
      case Expr::Kind::GetAttr: return get_attribute(eval(*e.a, scope), e.name);
      case Expr::Kind::GetItem: return get_item(eval(*e.a, scope), eval(*e.b, scope));
      case Expr::Kind::Slice: {
        const Value obj = eval(*e.a, scope);
        auto bound = [&](const ExprPtr& p) -> std::optional<int64_t> {
          if (!p) return std::nullopt;
          const Value v = eval(*p, scope);
          if (v.is_none()) return std::nullopt;
          if (!v.is_int() && !v.is_bool()) throw TemplateError("slice indices must be integers or None");
          return v.as_int();
        };
        return get_slice(obj, bound(e.b), bound(e.c), bound(e.d));
      }
      case Expr::Kind::Call: return call(e, scope);
      case Expr::Kind::Filter: {
        const Value v = eval(*e.a, scope);
        return apply_filter(e.name, v, eval_args(e.args, scope));
      }
      case Expr::Kind::Test: {
        const Value v = eval(*e.a, scope);
        return Value(apply_test(e.name, v, eval_args(e.args, scope)) != e.negated);
      }
      case Expr::Kind::Unary: {
        const Value v = eval(*e.a, scope);
        if (e.name == "not") return Value(!v.truthy());
        return py_negate(v, e.name == "-");
      }
      case Expr::Kind::Binary: {
        const Value l = eval(*e.a, scope);
        if (e.name == "and") return l.truthy() ? eval(*e.b, scope) : l;
        if (e.name == "or") return l.truthy() ? l : eval(*e.b, scope);
        return py_binary(e.name, l, eval(*e.b, scope));
      }
      case Expr::Kind::Compare: {
        Value left = eval(*e.items[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.items[i + 1], scope);
          if (!py_compare(e.ops[i], left, right)) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case Expr::Kind::Condition:
        if (eval(*e.b, scope).truthy()) return eval(*e.a, scope);
        return e.c ? eval(*e.c, scope) : Value::undefined("the conditional expression had no else");
    }
    throw TemplateError("internal error: unknown expression");
  }

  int macro_depth_ = 0;

  Value call(const Expr& e, const ScopePtr& scope) {
    const Value callee = eval(*e.a, scope);
    CallArgs args = eval_args(e.args, scope);
    if (callee.is_undefined()) fail_undefined(callee);
    if (!callee.is_callable()) throw TemplateError("'" + type_name(callee) + "' object is not callable");
    return callee.function()(args);
  }
};

}  // namespace

std::string render_body(const Body& body, std::shared_ptr<Scope> globals) {
  Interpreter interpreter;
  auto top = child_of(std::move(globals));
  std::string out;
  interpreter.exec(body, top, out);
  return out;
}

}  // namespace vkmind::jinja
