// The values a Jinja template computes with, modelled on the Python objects
// jinja2 hands around: none, booleans, 64-bit integers, floats, strings
// (UTF-8), lists and tuples, insertion-ordered dicts, namespace() objects,
// callables, and jinja2's default Undefined.
//
// Lists, dicts and namespaces are shared by reference as in Python, so that
// `{% set ns.items = ns.items + [x] %}` and aliasing behave the same.
#pragma once

#include <cstdint>
#include <climits>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkmind::jinja {

class Value;

struct Dict {
  std::vector<std::pair<std::string, Value>> entries;  // insertion order, as Python dicts

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(std::string key, Value value);
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;

  // The argument at `index` or named `name`, or nullptr.
  const Value* get(size_t index, std::string_view name) const;
  const Value* keyword(std::string_view name) const;
};

using Function = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Callable, Iterator };

  Value() = default;  // undefined
  static Value undefined(std::string hint = {});
  static Value none();
  Value(bool b);
  Value(int64_t i);
  Value(int i) : Value(static_cast<int64_t>(i)) {}
  Value(double d);
  Value(std::string s);
  Value(const char* s) : Value(std::string(s)) {}
  static Value list(std::vector<Value> items = {});
  static Value tuple(std::vector<Value> items);
  static Value dict(std::shared_ptr<Dict> d = nullptr);
  static Value make_namespace(std::shared_ptr<Dict> d = nullptr);
  static Value callable(std::string name, Function fn);
  // What jinja2's map/select/selectattr/unique/items filters and reverse
  // return: a one-shot generator (no len(), not JSON, consumed by use).
  static Value iterator(std::vector<Value> items);
  // markupsafe's Markup (from |safe and |escape): adding a plain string to
  // it HTML-escapes that string, as jinja2 does even without autoescape.
  static Value markup(std::string s);
  bool is_markup() const { return kind_ == Kind::String && markup_; }
  // Iterator: the items not consumed yet, which are now consumed (n: only so many).
  std::vector<Value> consume(size_t n = SIZE_MAX) const;

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }      // not bool (unlike Python's isinstance)
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_sequence() const { return kind_ == Kind::List || kind_ == Kind::Tuple; }
  bool is_dict() const { return kind_ == Kind::Dict; }
  bool is_namespace() const { return kind_ == Kind::Namespace; }
  bool is_mapping() const { return kind_ == Kind::Dict || kind_ == Kind::Namespace; }
  bool is_callable() const { return kind_ == Kind::Callable; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::Float ? static_cast<int64_t>(f_) : i_; }  // bool: 0/1
  double as_float() const { return kind_ == Kind::Float ? f_ : static_cast<double>(i_); }
  const std::string& as_string() const { return s_; }
  std::vector<Value>& items() const { return *list_; }
  Dict& entries() const { return *dict_; }
  const std::shared_ptr<Dict>& dict_ptr() const { return dict_; }
  const Function& function() const { return *fn_; }
  // Undefined: the name or expression that was missing (for error messages).
  const std::string& hint() const { return s_; }
  const std::string& callable_name() const { return s_; }

  // Python's truth value.
  bool truthy() const;
  // Python's len() for strings (code points), sequences and mappings.
  size_t length() const;

 private:
  Kind kind_ = Kind::Undefined;
  bool b_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<std::vector<Value>> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
  std::shared_ptr<size_t> cursor_;
  bool markup_ = false;  // Iterator: shared by copies, as a Python generator is
};

// A Python type name for messages ("str", "int", "list", ...).
std::string type_name(const Value& v);

}  // namespace vkmind::jinja
