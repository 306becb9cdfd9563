#include "model/jinja/string_methods.h"

#include <algorithm>

#include "model/jinja/error.h"
#include "model/jinja/operators.h"
#include "model/jinja/python_text.h"
#include "model/jinja/utf8_text.h"

namespace vkmind::jinja {

namespace {

const std::string& string_arg(const CallArgs& args, size_t i, const char* name, const char* method) {
  const Value* v = args.get(i, name);
  if (!v) throw TemplateError(std::string("str.") + method + "() is missing argument '" + name + "'");
  if (v->is_undefined()) fail_undefined(*v);
  if (!v->is_string()) throw TemplateError(std::string("str.") + method + "() argument must be str, not " + type_name(*v));
  return v->as_string();
}

// The optional `chars` of strip(): null for whitespace.
const std::string* optional_chars(const CallArgs& args) {
  const Value* v = args.get(0, "chars");
  if (!v || v->is_none()) return nullptr;
  if (!v->is_string()) throw TemplateError("strip arg must be None or str");
  return &v->as_string();
}

bool affix_match(const std::string& self, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) throw TemplateError("startswith/endswith argument must be str or a tuple of str, not " + type_name(a));
    const std::string& s = a.as_string();
    if (s.size() > self.size()) return false;
    return prefix ? self.compare(0, s.size(), s) == 0 : self.compare(self.size() - s.size(), s.size(), s) == 0;
  };
  if (affix.kind() == Value::Kind::Tuple) {
    return std::any_of(affix.items().begin(), affix.items().end(), one);
  }
  return one(affix);
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    std::string out;
    const std::u32string cps = utf8_decode(s);
    int64_t done = 0;
    for (char32_t c : cps) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      utf8_append(out, c);
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  for (size_t hit; (count < 0 || done < count) && (hit = s.find(from, pos)) != std::string::npos; ++done) {
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// Python's str.title(): a letter after a non-letter starts a word.
std::string python_title(const std::string& s) {
  std::string out;
  bool prev_letter = false;
  for (char32_t c : utf8_decode(s)) {
    const bool letter = unicode_is_letter(c);
    utf8_append(out, letter ? (prev_letter ? unicode_lower(c) : unicode_upper(c)) : c);
    prev_letter = letter;
  }
  return out;
}


// Python's str.format() with {} / {0} / {name} fields and no format specs.
std::string python_format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
    } else if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') {
      out += '}';
      ++i;
    } else if (c == '{') {
      const size_t close = fmt.find('}', i);
      if (close == std::string::npos) throw TemplateError("str.format(): single '{' encountered in format string");
      const std::string field = fmt.substr(i + 1, close - i - 1);
      if (field.find_first_of(":!.[") != std::string::npos) {
        throw TemplateError("unsupported: str.format() field '{" + field + "}' (conversions and format specs)");
      }
      const Value* v = nullptr;
      if (field.empty()) {
        v = args.get(auto_index++, "");
      } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        v = args.get(static_cast<size_t>(std::stoul(field)), "");
      } else {
        v = args.keyword(field);
      }
      if (!v) throw TemplateError("str.format(): no argument for field '{" + field + "}'");
      out += python_str(*v);
      i = close;
    } else if (c == '}') {
      throw TemplateError("str.format(): single '}' encountered in format string");
    } else {
      out += c;
    }
  }
  return out;
}

int64_t int_arg(const CallArgs& args, size_t i, const char* name, int64_t fallback) {
  const Value* v = args.get(i, name);
  if (!v || v->is_none()) return fallback;
  if (!v->is_int() && !v->is_bool()) throw TemplateError(std::string("'") + name + "' must be an integer");
  return v->as_int();
}

}  // namespace

// Python's str.capitalize(): the first character upper, the rest lower.
std::string python_capitalize(const std::string& s) {
  std::string out;
  bool first = true;
  for (char32_t c : utf8_decode(s)) {
    utf8_append(out, first ? unicode_upper(c) : unicode_lower(c));
    first = false;
  }
  return out;
}

std::vector<Value> python_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right) {
  std::vector<Value> parts;
  if (sep && sep->empty()) throw TemplateError("empty separator");
  if (sep) {
    if (!from_right) {
      size_t pos = 0;
      for (size_t hit; (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) &&
                       (hit = s.find(*sep, pos)) != std::string::npos;) {
        parts.emplace_back(s.substr(pos, hit - pos));
        pos = hit + sep->size();
      }
      parts.emplace_back(s.substr(pos));
      return parts;
    }
    size_t end = s.size();
    std::vector<Value> rev;
    for (;;) {
      if (maxsplit >= 0 && static_cast<int64_t>(rev.size()) >= maxsplit) break;
      if (end < sep->size()) break;
      const size_t hit = s.rfind(*sep, end - sep->size());
      if (hit == std::string::npos) break;
      rev.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
      end = hit;
    }
    rev.emplace_back(s.substr(0, end));
    std::reverse(rev.begin(), rev.end());
    return rev;
  }
  // Whitespace split: no empty parts.
  const std::u32string cps = utf8_decode(s);
  std::vector<std::pair<size_t, size_t>> words;  // code point ranges
  for (size_t i = 0; i < cps.size();) {
    while (i < cps.size() && is_python_space(cps[i])) ++i;
    if (i >= cps.size()) break;
    size_t j = i;
    while (j < cps.size() && !is_python_space(cps[j])) ++j;
    words.emplace_back(i, j);
    i = j;
  }
  if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit + 1) {
    for (auto [b, e] : words) parts.emplace_back(utf8_encode(std::u32string_view(cps).substr(b, e - b)));
    return parts;
  }
  const size_t m = static_cast<size_t>(maxsplit);
  if (!from_right) {
    for (size_t k = 0; k < m; ++k) parts.emplace_back(utf8_encode(std::u32string_view(cps).substr(words[k].first, words[k].second - words[k].first)));
    // The rest keeps its inner whitespace, trailing whitespace stripped.
    std::u32string rest = cps.substr(words[m].first);
    while (!rest.empty() && is_python_space(rest.back())) rest.pop_back();
    parts.emplace_back(utf8_encode(rest));
    return parts;
  }
  const size_t first = words.size() - m;
  std::u32string head = cps.substr(0, words[first - 1].second);
  size_t b = 0;
  while (b < head.size() && is_python_space(head[b])) ++b;
  parts.emplace_back(utf8_encode(std::u32string_view(head).substr(b)));
  for (size_t k = first; k < words.size(); ++k) {
    parts.emplace_back(utf8_encode(std::u32string_view(cps).substr(words[k].first, words[k].second - words[k].first)));
  }
  return parts;
}

std::optional<Value> string_method(const std::string& self, const std::string& name) {
  auto bind = [&](auto fn) { return Value::callable("str." + name, [self, fn](const CallArgs& a) { return fn(self, a); }); };
  if (name == "startswith" || name == "endswith") {
    const bool prefix = name == "startswith";
    return bind([prefix](const std::string& s, const CallArgs& a) {
      const Value* affix = a.get(0, "prefix");
      if (!affix) throw TemplateError("startswith/endswith() takes at least 1 argument");
      if (affix->is_undefined()) fail_undefined(*affix);
      return Value(affix_match(s, *affix, prefix));
    });
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool left = name != "rstrip", right = name != "lstrip";
    return bind([left, right](const std::string& s, const CallArgs& a) {
      return Value(python_strip(s, optional_chars(a), left, right));
    });
  }
  if (name == "split" || name == "rsplit") {
    const bool from_right = name == "rsplit";
    return bind([from_right](const std::string& s, const CallArgs& a) {
      const Value* sep = a.get(0, "sep");
      const std::string* sep_text = nullptr;
      if (sep && !sep->is_none()) {
        if (!sep->is_string()) throw TemplateError("must be str or None, not " + type_name(*sep));
        sep_text = &sep->as_string();
      }
      return Value::list(python_split(s, sep_text, int_arg(a, 1, "maxsplit", -1), from_right));
    });
  }
  if (name == "upper") return bind([](const std::string& s, const CallArgs&) { return Value(unicode_upper(s)); });
  if (name == "lower") return bind([](const std::string& s, const CallArgs&) { return Value(unicode_lower(s)); });
  if (name == "title") return bind([](const std::string& s, const CallArgs&) { return Value(python_title(s)); });
  if (name == "capitalize") return bind([](const std::string& s, const CallArgs&) { return Value(python_capitalize(s)); });
  if (name == "replace") {
    return bind([](const std::string& s, const CallArgs& a) {
      return Value(replace_all(s, string_arg(a, 0, "old", "replace"), string_arg(a, 1, "new", "replace"),
                               int_arg(a, 2, "count", -1)));
    });
  }
  if (name == "find" || name == "rfind" || name == "count" || name == "index" || name == "rindex") {
    const std::string method = name;
    return bind([method](const std::string& s, const CallArgs& a) {
      const std::string& sub = string_arg(a, 0, "sub", method.c_str());
      if (a.positional.size() > 1) throw TemplateError("unsupported: str." + method + "() with start/end");
      if (method == "count") {
        if (sub.empty()) return Value(static_cast<int64_t>(utf8_length(s) + 1));
        int64_t n = 0;
        for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
        return Value(n);
      }
      const size_t hit = method[0] == 'r' ? s.rfind(sub) : s.find(sub);
      if (hit == std::string::npos) {
        if (method.find("index") != std::string::npos) throw TemplateError("substring not found");
        return Value(static_cast<int64_t>(-1));
      }
      return Value(static_cast<int64_t>(utf8_length(std::string_view(s).substr(0, hit))));
    });
  }
  if (name == "format") return bind([](const std::string& s, const CallArgs& a) { return Value(python_format(s, a)); });
  if (name == "join") {
    return bind([](const std::string& s, const CallArgs& a) {
      const Value* seq = a.get(0, "iterable");
      if (!seq || !seq->is_sequence()) throw TemplateError("str.join() needs a list of strings");
      std::string out;
      for (size_t i = 0; i < seq->items().size(); ++i) {
        const Value& item = seq->items()[i];
        if (!item.is_string()) throw TemplateError("sequence item " + std::to_string(i) + ": expected str instance, " + type_name(item) + " found");
        if (i) out += s;
        out += item.as_string();
      }
      return Value(out);
    });
  }
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum" || name == "islower" ||
      name == "isupper") {
    const std::string method = name;
    return bind([method](const std::string& s, const CallArgs&) {
      if (s.empty()) return Value(false);
      bool cased = false;
      for (unsigned char c : s) {
        const bool lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z', digit = c >= '0' && c <= '9';
        cased = cased || lower || upper;
        if (method == "isdigit" && !digit) return Value(false);
        if (method == "isalpha" && !(lower || upper)) return Value(false);
        if (method == "isalnum" && !(lower || upper || digit)) return Value(false);
        if (method == "isspace" && !is_python_space(c)) return Value(false);
        if (method == "islower" && upper) return Value(false);
        if (method == "isupper" && lower) return Value(false);
      }
      if (method == "islower" || method == "isupper") return Value(cased);
      return Value(true);
    });
  }
  if (name == "splitlines") {
    return bind([](const std::string& s, const CallArgs&) {
      std::vector<Value> lines;
      size_t b = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n' || s[i] == '\r') {
          lines.emplace_back(s.substr(b, i - b));
          if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
          b = i + 1;
        }
      }
      if (b < s.size()) lines.emplace_back(s.substr(b));
      return Value::list(std::move(lines));
    });
  }
  return std::nullopt;
}

}  // namespace vkmind::jinja
