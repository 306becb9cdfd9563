// jinja2's filters as chat templates use them, plus the Hub's tojson
// (json.dumps without ASCII escaping; keys in insertion order by default).
#include <algorithm>
#include <cmath>

#include "model/jinja/attributes.h"
#include "model/jinja/builtins.h"
#include "model/jinja/error.h"
#include "model/jinja/operators.h"
#include "model/jinja/python_text.h"
#include "model/jinja/string_methods.h"
#include "model/jinja/utf8_text.h"

namespace vkmind::jinja {

std::vector<Value> iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List:
    case Value::Kind::Tuple: return v.items();
    case Value::Kind::Dict: {
      std::vector<Value> keys;
      for (const auto& e : v.entries().entries) keys.emplace_back(e.first);
      return keys;
    }
    case Value::Kind::Iterator: return v.consume();
    case Value::Kind::String: {
      std::vector<Value> chars;
      for (char32_t c : utf8_decode(v.as_string())) chars.emplace_back(utf8_encode(std::u32string(1, c)));
      return chars;
    }
    default: throw TemplateError("'" + type_name(v) + "' object is not iterable");
  }
}

namespace {

bool flag(const CallArgs& args, size_t i, const char* name, bool fallback) {
  const Value* v = args.get(i, name);
  return v ? v->truthy() : fallback;
}

// jinja2's make_attrgetter: "a.b.0" walks items, digits are indices.
Value get_path(const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return get_item(item, attribute);
  Value cur = item;
  const std::string& path = attribute.as_string();
  size_t b = 0;
  for (;;) {
    const size_t dot = path.find('.', b);
    const std::string part = path.substr(b, dot == std::string::npos ? std::string::npos : dot - b);
    const bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    cur = get_item(cur, digits ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
    if (dot == std::string::npos) return cur;
    b = dot + 1;
  }
}

// The sort key for case-insensitive comparisons.
Value fold_case(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(unicode_lower(v.as_string()));
  return v;
}

CallArgs shifted(const CallArgs& args, size_t from) {
  CallArgs rest;
  for (size_t i = from; i < args.positional.size(); ++i) rest.positional.push_back(args.positional[i]);
  rest.keywords = args.keywords;
  return rest;
}

Value select_filter(const Value& value, const CallArgs& args, bool by_attribute, bool keep_when) {
  std::vector<Value> out;
  size_t next = 0;
  Value attribute;
  if (by_attribute) {
    const Value* a = args.get(next++, "");
    if (!a) throw TemplateError("selectattr/rejectattr needs an attribute name");
    attribute = *a;
  }
  const Value* test = args.get(next++, "");
  CallArgs test_args = shifted(args, next);
  if (!value.truthy()) return Value::iterator({});
  for (const Value& item : iterate(value)) {
    const Value subject = by_attribute ? get_path(item, attribute) : item;
    bool ok;
    if (!test) {
      ok = subject.truthy();
    } else {
      if (!test->is_string()) throw TemplateError("select: the test name must be a string");
      ok = apply_test(test->as_string(), subject, test_args);
    }
    if (ok == keep_when) out.push_back(item);
  }
  return Value::iterator(std::move(out));
}

Value map_filter(const Value& value, const CallArgs& args) {
  std::vector<Value> out;
  if (!value.truthy()) return Value::iterator({});
  if (const Value* attribute = args.keyword("attribute")) {
    const Value* fallback = args.keyword("default");
    for (const Value& item : iterate(value)) {
      Value v = get_path(item, *attribute);
      if (v.is_undefined() && fallback) v = *fallback;
      out.push_back(v);
    }
    return Value::iterator(std::move(out));
  }
  const Value* filter = args.get(0, "");
  if (!filter || !filter->is_string()) throw TemplateError("map needs a filter name or attribute=");
  CallArgs rest = shifted(args, 1);
  for (const Value& item : iterate(value)) out.push_back(apply_filter(filter->as_string(), item, rest));
  return Value::iterator(std::move(out));
}

Value sort_filter(const Value& value, const CallArgs& args) {
  const bool reverse = flag(args, 0, "reverse", false);
  const bool case_sensitive = flag(args, 1, "case_sensitive", false);
  const Value* attribute = args.get(2, "attribute");
  std::vector<Value> items = iterate(value);
  auto key = [&](const Value& v) { return fold_case(attribute ? get_path(v, *attribute) : v, case_sensitive); };
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    return reverse ? py_less(key(b), key(a)) : py_less(key(a), key(b));
  });
  return Value::list(std::move(items));
}

Value dictsort_filter(const Value& value, const CallArgs& args) {
  if (!value.is_dict()) throw TemplateError("dictsort needs a dict, not " + type_name(value));
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value* by = args.get(1, "by");
  const bool by_value = by && by->is_string() && by->as_string() == "value";
  const bool reverse = flag(args, 2, "reverse", false);
  std::vector<Value> pairs;
  for (const auto& [k, v] : value.entries().entries) pairs.push_back(Value::tuple({Value(k), v}));
  auto key = [&](const Value& p) { return fold_case(p.items()[by_value ? 1 : 0], case_sensitive); };
  std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
    return reverse ? py_less(key(b), key(a)) : py_less(key(a), key(b));
  });
  return Value::list(std::move(pairs));
}

Value unique_filter(const Value& value, const CallArgs& args) {
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value* attribute = args.get(1, "attribute");
  std::vector<Value> out, seen;
  for (const Value& item : iterate(value)) {
    const Value key = fold_case(attribute ? get_path(item, *attribute) : item, case_sensitive);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return py_equal(s, key); })) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::iterator(std::move(out));
}

Value min_max_filter(const Value& value, const CallArgs& args, bool want_max) {
  const bool case_sensitive = flag(args, 0, "case_sensitive", false);
  const Value* attribute = args.get(1, "attribute");
  std::vector<Value> items = iterate(value);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Value& v) { return fold_case(attribute ? get_path(v, *attribute) : v, case_sensitive); };
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    if (want_max ? py_less(key(items[best]), key(items[i])) : py_less(key(items[i]), key(items[best]))) best = i;
  }
  return items[best];
}

Value tojson_filter(const Value& value, const CallArgs& args) {
  // The Hub's signature: tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
  JsonOptions o;
  o.ensure_ascii = flag(args, 0, "ensure_ascii", false);
  if (const Value* indent = args.get(1, "indent"); indent && !indent->is_none()) {
    if (!indent->is_int()) throw TemplateError("tojson: unsupported indent " + python_repr(*indent));
    o.indent = static_cast<int>(indent->as_int());
  }
  if (const Value* sep = args.get(2, "separators"); sep && !sep->is_none()) {
    if (!sep->is_sequence() || sep->items().size() != 2 || !sep->items()[0].is_string() || !sep->items()[1].is_string()) {
      throw TemplateError("tojson: separators must be a pair of strings");
    }
    o.item_separator = sep->items()[0].as_string();
    o.key_separator = sep->items()[1].as_string();
  }
  o.sort_keys = flag(args, 3, "sort_keys", false);
  return Value(json_dumps(value, o));
}

// jinja2's do_indent, including its splitlines() quirks.
Value indent_filter(const Value& value, const CallArgs& args) {
  std::string indention(4, ' ');
  if (const Value* w = args.get(0, "width")) indention = w->is_string() ? w->as_string() : std::string(static_cast<size_t>(w->as_int()), ' ');
  const bool first = flag(args, 1, "first", false);
  const bool blank = flag(args, 2, "blank", false);
  const std::string s = python_str(value) + "\n";
  std::vector<std::string> lines;
  size_t b = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == '\x1c' || c == '\x1d' || c == '\x1e') {
      lines.push_back(s.substr(b, i - b));
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      b = i + 1;
    }
  }
  if (b < s.size()) lines.push_back(s.substr(b));
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + indention : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += '\n';
      if (!lines[i].empty()) rv += indention + lines[i];
    }
  }
  if (first) rv = indention + rv;
  return Value(rv);
}

Value int_filter(const Value& value, const CallArgs& args) {
  const Value* fallback = args.get(0, "default");
  const Value dflt = fallback ? *fallback : Value(static_cast<int64_t>(0));
  if (value.is_int() || value.is_bool()) return Value(value.as_int());
  if (value.is_float()) return Value(static_cast<int64_t>(std::trunc(value.as_float())));
  if (value.is_string()) {
    const std::string s = python_strip(value.as_string(), nullptr, true, true);
    try {
      size_t used = 0;
      const int64_t v = std::stoll(s, &used, 10);
      if (used == s.size()) return Value(v);
      const double d = std::stod(s, &used);
      if (used == s.size()) return Value(static_cast<int64_t>(std::trunc(d)));
    } catch (const std::exception&) {
    }
  }
  return dflt;
}

Value float_filter(const Value& value, const CallArgs& args) {
  const Value* fallback = args.get(0, "default");
  if (value.is_number()) return Value(value.as_float());
  if (value.is_string()) {
    const std::string s = python_strip(value.as_string(), nullptr, true, true);
    try {
      size_t used = 0;
      const double d = std::stod(s, &used);
      if (used == s.size()) return Value(d);
    } catch (const std::exception&) {
    }
  }
  return fallback ? *fallback : Value(0.0);
}

// jinja2's do_title: words begin after spaces, dashes and opening brackets.
std::string jinja_title(const std::string& s) {
  std::string out;
  bool at_start = true;
  for (char32_t c : utf8_decode(s)) {
    const bool boundary = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || is_python_space(c);
    if (boundary) {
      utf8_append(out, c);
      at_start = true;
    } else {
      utf8_append(out, at_start ? unicode_upper(c) : unicode_lower(c));
      at_start = false;
    }
  }
  return out;
}

std::string string_of(const Value& v) { return python_str(v); }

}  // namespace

bool is_known_filter(const std::string& name) {
  static const char* const kNames[] = {"default", "d", "length", "count", "string", "safe", "e", "escape", "trim", "upper",
                                       "lower", "title", "capitalize", "replace", "tojson", "join", "first", "last",
                                       "items", "list", "reverse", "int", "float", "abs", "round", "selectattr",
                                       "rejectattr", "select", "reject", "map", "unique", "sort", "dictsort", "min",
                                       "max", "indent", "wordcount", "sum"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

Value apply_filter(const std::string& name, const Value& value, const CallArgs& args) {
  if (name == "default" || name == "d") {
    const Value* fallback = args.get(0, "default_value");
    const bool boolean = flag(args, 1, "boolean", false);
    if (value.is_undefined() || (boolean && !value.truthy())) return fallback ? *fallback : Value(std::string());
    return value;
  }
  if (name == "length" || name == "count") return Value(static_cast<int64_t>(value.length()));
  if (name == "string") return value.is_markup() ? value : Value(string_of(value));
  if (name == "safe") return value.is_markup() ? value : Value::markup(string_of(value));
  if (name == "e" || name == "escape") return value.is_markup() ? value : Value::markup(html_escape(string_of(value)));
  if (name == "trim") {
    const Value* chars = args.get(0, "chars");
    const std::string* set = chars && chars->is_string() ? &chars->as_string() : nullptr;
    std::string trimmed = python_strip(string_of(value), set, true, true);
    return value.is_markup() ? Value::markup(std::move(trimmed)) : Value(std::move(trimmed));
  }
  if (name == "upper") return Value(unicode_upper(string_of(value)));
  if (name == "lower") return Value(unicode_lower(string_of(value)));
  if (name == "title") return Value(jinja_title(string_of(value)));
  if (name == "capitalize") return Value(python_capitalize(string_of(value)));
  if (name == "replace") {
    const Value* from = args.get(0, "old");
    const Value* to = args.get(1, "new");
    if (!from || !to) throw TemplateError("replace needs two arguments");
    CallArgs method_args;
    method_args.positional = {Value(string_of(*from)), Value(string_of(*to))};
    if (const Value* count = args.get(2, "count"); count && !count->is_none()) method_args.positional.push_back(*count);
    return string_method(string_of(value), "replace")->function()(method_args);
  }
  if (name == "tojson") return tojson_filter(value, args);
  if (name == "join") {
    const Value* sep = args.get(0, "d");
    const Value* attribute = args.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : iterate(value)) {
      if (!first) out += sep ? string_of(*sep) : "";
      first = false;
      out += string_of(attribute ? get_path(item, *attribute) : item);
    }
    return Value(out);
  }
  if (name == "first") {
    std::vector<Value> items = value.kind() == Value::Kind::Iterator ? value.consume(1) : iterate(value);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
  }
  if (name == "last") {
    if (value.kind() == Value::Kind::Iterator) throw TemplateError("'generator' object is not reversible");
    std::vector<Value> items = iterate(value);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
  }
  if (name == "items") {
    if (value.is_undefined()) return Value::list();
    if (!value.is_dict()) throw TemplateError("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, v] : value.entries().entries) out.push_back(Value::tuple({Value(k), v}));
    return Value::iterator(std::move(out));
  }
  if (name == "list") return Value::list(iterate(value));
  if (name == "reverse") {
    if (value.is_string()) return get_slice(value, std::nullopt, std::nullopt, -1);
    // reversed() of a list is an iterator; of a generator, jinja2 falls back to a list.
    const bool reversible = value.is_sequence() || value.is_dict();
    std::vector<Value> items = iterate(value);
    std::reverse(items.begin(), items.end());
    return reversible ? Value::iterator(std::move(items)) : Value::list(std::move(items));
  }
  if (name == "int") return int_filter(value, args);
  if (name == "float") return float_filter(value, args);
  if (name == "abs") {
    if (!value.is_number()) throw TemplateError("bad operand type for abs(): '" + type_name(value) + "'");
    return value.is_float() ? Value(std::fabs(value.as_float())) : Value(static_cast<int64_t>(std::llabs(value.as_int())));
  }
  if (name == "round") {
    const Value* precision = args.get(0, "precision");
    const Value* method = args.get(1, "method");
    const std::string how = method && method->is_string() ? method->as_string() : "common";
    const double scale = std::pow(10.0, precision ? static_cast<double>(precision->as_int()) : 0.0);
    const double x = value.as_float() * scale;
    // Python's round() rounds halves to even, as nearbyint does by default.
    const double r = how == "ceil" ? std::ceil(x) : how == "floor" ? std::floor(x) : std::nearbyint(x);
    return Value(r / scale);
  }
  if (name == "selectattr") return select_filter(value, args, true, true);
  if (name == "rejectattr") return select_filter(value, args, true, false);
  if (name == "select") return select_filter(value, args, false, true);
  if (name == "reject") return select_filter(value, args, false, false);
  if (name == "map") return map_filter(value, args);
  if (name == "unique") return unique_filter(value, args);
  if (name == "sort") return sort_filter(value, args);
  if (name == "dictsort") return dictsort_filter(value, args);
  if (name == "min") return min_max_filter(value, args, false);
  if (name == "max") return min_max_filter(value, args, true);
  if (name == "indent") return indent_filter(value, args);
  if (name == "wordcount") {
    int64_t n = 0;
    bool in_word = false;
    for (unsigned char c : string_of(value)) {
      const bool word = std::isalnum(c) || c == '_' || c >= 0x80;
      if (word && !in_word) ++n;
      in_word = word;
    }
    return Value(n);
  }
  if (name == "sum") {
    Value total = args.get(1, "start") ? *args.get(1, "start") : Value(static_cast<int64_t>(0));
    const Value* attribute = args.get(0, "attribute");
    for (const Value& item : iterate(value)) total = py_binary("+", total, attribute ? get_path(item, *attribute) : item);
    return total;
  }
  throw TemplateError("no filter named '" + name + "'");
}

}  // namespace vkmind::jinja
