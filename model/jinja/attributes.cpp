#include "model/jinja/attributes.h"

#include <algorithm>
#include <array>

#include "model/jinja/error.h"
#include "model/jinja/operators.h"
#include "model/jinja/python_text.h"
#include "model/jinja/string_methods.h"
#include "model/jinja/utf8_text.h"

namespace vkmind::jinja {

namespace {

constexpr std::array<std::string_view, 6> kDictMutators = {"pop", "update", "setdefault", "clear", "popitem", "__setitem__"};
constexpr std::array<std::string_view, 8> kListMutators = {"append", "pop", "extend", "insert", "remove", "clear", "sort", "reverse"};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& names, const std::string& n) {
  for (auto x : names) {
    if (x == n) return true;
  }
  return false;
}

// jinja2's sandbox returns an Undefined that fails when used; calling it is
// what templates do, so the callable raises.
Value unsafe_method(const Value& obj, const std::string& name) {
  const std::string message =
      "access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe (the Hub renders templates in an immutable sandbox)";
  return Value::callable(type_name(obj) + "." + name, [message](const CallArgs&) -> Value { throw TemplateError(message); });
}

std::optional<Value> dict_method(const Value& obj, const std::string& name) {
  if (one_of(kDictMutators, name)) return unsafe_method(obj, name);
  const auto d = obj.dict_ptr();
  if (name == "get") {
    return Value::callable("dict.get", [d](const CallArgs& a) {
      const Value* key = a.get(0, "");
      if (!key) throw TemplateError("dict.get() takes at least 1 argument");
      if (key->is_string()) {
        if (const Value* v = d->find(key->as_string())) return *v;
      }
      const Value* fallback = a.get(1, "");
      return fallback ? *fallback : Value::none();
    });
  }
  if (name == "items") {
    return Value::callable("dict.items", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& [k, v] : d->entries) out.push_back(Value::tuple({Value(k), v}));
      return Value::list(std::move(out));
    });
  }
  if (name == "keys") {
    return Value::callable("dict.keys", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& e : d->entries) out.emplace_back(e.first);
      return Value::list(std::move(out));
    });
  }
  if (name == "values") {
    return Value::callable("dict.values", [d](const CallArgs&) {
      std::vector<Value> out;
      for (const auto& e : d->entries) out.push_back(e.second);
      return Value::list(std::move(out));
    });
  }
  if (name == "copy") return Value::callable("dict.copy", [d](const CallArgs&) { return Value::dict(std::make_shared<Dict>(*d)); });
  return std::nullopt;
}

std::optional<Value> list_method(const Value& obj, const std::string& name) {
  if (one_of(kListMutators, name)) return unsafe_method(obj, name);
  const Value self = obj;
  if (name == "index" || name == "count") {
    const bool count = name == "count";
    return Value::callable("list." + name, [self, count](const CallArgs& a) {
      const Value* x = a.get(0, "");
      if (!x) throw TemplateError("list.index()/count() takes exactly one argument");
      int64_t n = 0;
      for (size_t i = 0; i < self.items().size(); ++i) {
        if (py_equal(self.items()[i], *x)) {
          if (!count) return Value(static_cast<int64_t>(i));
          ++n;
        }
      }
      if (!count) throw TemplateError(python_repr(*x) + " is not in list");
      return Value(n);
    });
  }
  return std::nullopt;
}

std::string describe(const Value& obj) {
  switch (obj.kind()) {
    case Value::Kind::Dict: return "'dict object'";
    case Value::Kind::List: return "'list object'";
    case Value::Kind::String: return "'str object'";
    default: {
      std::string text = "'";
      text += type_name(obj);
      text += " object'";
      return text;
    }
  }
}

std::optional<size_t> normalize_index(int64_t i, size_t size) {
  if (i < 0) i += static_cast<int64_t>(size);
  if (i < 0 || i >= static_cast<int64_t>(size)) return std::nullopt;
  return static_cast<size_t>(i);
}

}  // namespace

Value get_attribute(const Value& obj, const std::string& name) {
  switch (obj.kind()) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::Dict: {
      if (auto m = dict_method(obj, name)) return *m;
      if (const Value* v = obj.entries().find(name)) return *v;
      return Value::undefined(describe(obj) + " has no attribute '" + name + "'");
    }
    case Value::Kind::Namespace: {
      if (const Value* v = obj.entries().find(name)) return *v;
      return Value::undefined("'Namespace object' has no attribute '" + name + "'");
    }
    case Value::Kind::String:
      if (auto m = string_method(obj.as_string(), name)) return *m;
      break;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      if (auto m = list_method(obj, name)) return *m;
      break;
    default: break;
  }
  return Value::undefined(describe(obj) + " has no attribute '" + name + "'");
}

Value get_item(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::Dict:
      if (key.is_string()) {
        if (const Value* v = obj.entries().find(key.as_string())) return *v;
        if (auto m = dict_method(obj, key.as_string())) return *m;
      }
      return Value::undefined(describe(obj) + " has no attribute " + python_repr(key));
    case Value::Kind::Namespace:
      if (key.is_string()) return get_attribute(obj, key.as_string());
      break;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      if (key.is_int() || key.is_bool()) {
        if (auto i = normalize_index(key.as_int(), obj.items().size())) return obj.items()[*i];
        return Value::undefined(describe(obj) + " has no element " + python_repr(key));
      }
      if (key.is_string()) return get_attribute(obj, key.as_string());
      break;
    case Value::Kind::String:
      if (key.is_int() || key.is_bool()) {
        const std::u32string cps = utf8_decode(obj.as_string());
        if (auto i = normalize_index(key.as_int(), cps.size())) return Value(utf8_encode(cps.substr(*i, 1)));
        return Value::undefined(describe(obj) + " has no element " + python_repr(key));
      }
      if (key.is_string()) return get_attribute(obj, key.as_string());
      break;
    default: break;
  }
  return Value::undefined(describe(obj) + " has no attribute " + python_repr(key));
}

Value get_slice(const Value& obj, std::optional<int64_t> start, std::optional<int64_t> stop, std::optional<int64_t> step_opt) {
  if (obj.is_undefined()) fail_undefined(obj);
  const int64_t step = step_opt.value_or(1);
  if (step == 0) throw TemplateError("slice step cannot be zero");
  std::u32string cps;
  size_t size = 0;
  if (obj.is_string()) {
    cps = utf8_decode(obj.as_string());
    size = cps.size();
  } else if (obj.is_sequence()) {
    size = obj.items().size();
  } else {
    throw TemplateError("'" + type_name(obj) + "' object is not subscriptable");
  }
  const int64_t n = static_cast<int64_t>(size);
  // Python's slice.indices().
  auto clamp = [&](std::optional<int64_t> v, int64_t fallback) {
    if (!v) return fallback;
    int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<int64_t>(x, 0, n);
    return std::clamp<int64_t>(x, -1, n - 1);
  };
  const int64_t b = clamp(start, step > 0 ? 0 : n - 1);
  const int64_t e = clamp(stop, step > 0 ? n : -1);
  std::vector<size_t> picks;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) picks.push_back(static_cast<size_t>(i));
  if (obj.is_string()) {
    std::u32string out;
    for (size_t i : picks) out += cps[i];
    return Value(utf8_encode(out));
  }
  std::vector<Value> out;
  for (size_t i : picks) out.push_back(obj.items()[i]);
  return obj.kind() == Value::Kind::Tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

}  // namespace vkmind::jinja
