#include "model/jinja/operators.h"

#include <cmath>

#include "model/jinja/error.h"
#include "model/jinja/python_text.h"

namespace vkmind::jinja {

void fail_undefined(const Value& v) {
  throw TemplateError(v.hint().empty() ? "undefined value" : v.hint());
}

namespace {

[[noreturn]] void unsupported(const std::string& op, const Value& a, const Value& b) {
  throw TemplateError("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Value repeat(const Value& seq, int64_t n) {
  if (seq.is_string()) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return seq.is_markup() ? Value::markup(out) : Value(out);
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.items().begin(), seq.items().end());
  return seq.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

}  // namespace

bool py_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_undefined() || b.is_undefined()) return a.is_undefined() && b.is_undefined();
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::None: return true;
    case K::String: return a.as_string() == b.as_string();
    case K::List:
    case K::Tuple: {
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!py_equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case K::Dict: {
      if (a.entries().entries.size() != b.entries().entries.size()) return false;
      for (const auto& [k, v] : a.entries().entries) {
        const Value* other = b.entries().find(k);
        if (!other || !py_equal(v, *other)) return false;
      }
      return true;
    }
    case K::Namespace: return a.dict_ptr() == b.dict_ptr();
    case K::Callable: return &a.function() == &b.function();
    default: return false;
  }
}

bool py_less(const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 byte order = code point order
  if (a.is_sequence() && a.kind() == b.kind()) {
    const auto& x = a.items();
    const auto& y = b.items();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!py_equal(x[i], y[i])) return py_less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  throw TemplateError("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

bool py_compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return py_equal(a, b);
  if (op == "!=") return !py_equal(a, b);
  if (op == "<") return py_less(a, b);
  if (op == ">") return py_less(b, a);
  if (op == "<=") return py_less(a, b) || py_equal(a, b);
  if (op == ">=") return py_less(b, a) || py_equal(a, b);
  if (op == "in") return py_contains(b, a);
  if (op == "not in") return !py_contains(b, a);
  throw TemplateError("unknown comparison '" + op + "'");
}

bool py_contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::Undefined: return false;  // iterating Undefined yields nothing
    case Value::Kind::String:
      if (!item.is_string()) {
        throw TemplateError("'in <string>' requires string as left operand, not " + type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      for (const Value& v : container.items()) {
        if (py_equal(v, item)) return true;
      }
      return false;
    case Value::Kind::Dict: return item.is_string() && container.entries().find(item.as_string()) != nullptr;
    case Value::Kind::Iterator:
      for (const Value& v : container.consume()) {
        if (py_equal(v, item)) return true;
      }
      return false;
    default: throw TemplateError("argument of type '" + type_name(container) + "' is not iterable");
  }
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

Value py_binary(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value(python_str(a) + python_str(b));
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  const bool numbers = a.is_number() && b.is_number();
  const bool any_float = a.is_float() || b.is_float();
  if (op == "+") {
    if (numbers) return any_float ? Value(a.as_float() + b.as_float()) : Value(a.as_int() + b.as_int());
    if (a.is_string() && b.is_string()) {
      if (a.is_markup() || b.is_markup()) {
        auto part = [](const Value& v) { return v.is_markup() ? v.as_string() : html_escape(v.as_string()); };
        return Value::markup(part(a) + part(b));
      }
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_sequence() && a.kind() == b.kind()) {
      std::vector<Value> out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    if (a.is_string()) throw TemplateError("can only concatenate str (not \"" + type_name(b) + "\") to str");
    unsupported(op, a, b);
  }
  if (op == "-") {
    if (numbers) return any_float ? Value(a.as_float() - b.as_float()) : Value(a.as_int() - b.as_int());
    unsupported(op, a, b);
  }
  if (op == "*") {
    if (numbers) return any_float ? Value(a.as_float() * b.as_float()) : Value(a.as_int() * b.as_int());
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) return repeat(a, b.as_int());
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) return repeat(b, a.as_int());
    unsupported(op, a, b);
  }
  if (op == "/" || op == "//" || op == "%") {
    if (a.is_string() && op == "%") throw TemplateError("unsupported: printf-style string formatting ('...' % value)");
    if (!numbers) unsupported(op, a, b);
    if (b.as_float() == 0) throw TemplateError(op == "%" ? "integer modulo by zero" : "division by zero");
    if (op == "/") return Value(a.as_float() / b.as_float());
    if (any_float) {
      const double x = a.as_float(), y = b.as_float();
      if (op == "//") return Value(std::floor(x / y));
      double m = std::fmod(x, y);
      if (m != 0 && ((m < 0) != (y < 0))) m += y;
      return Value(m);
    }
    const int64_t q = floor_div(a.as_int(), b.as_int());
    return op == "//" ? Value(q) : Value(a.as_int() - q * b.as_int());
  }
  if (op == "**") {
    if (!numbers) unsupported(op, a, b);
    if (!any_float && b.as_int() >= 0) {
      int64_t r = 1;
      for (int64_t i = 0; i < b.as_int(); ++i) r *= a.as_int();
      return Value(r);
    }
    return Value(std::pow(a.as_float(), b.as_float()));
  }
  throw TemplateError("unknown operator '" + op + "'");
}

Value py_negate(const Value& v, bool minus) {
  if (v.is_undefined()) fail_undefined(v);
  if (!v.is_number()) throw TemplateError("bad operand type for unary " + std::string(minus ? "-" : "+") + ": '" + type_name(v) + "'");
  if (v.is_float()) return Value(minus ? -v.as_float() : v.as_float());
  return Value(minus ? -v.as_int() : v.as_int());
}

}  // namespace vkmind::jinja
