#include "model/jinja/lexer.h"

#include <array>
#include <cctype>

#include "model/jinja/error.h"
#include "model/jinja/utf8_text.h"

namespace vkmind::jinja {

namespace {

bool is_space_byte(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Python's str.rstrip() on the text before a `{%-` tag.
std::string rstrip_python(std::string_view text) { return python_strip(text, nullptr, false, true); }

size_t skip_whitespace(std::string_view s, size_t pos) {
  // Python's \s also matches Unicode spaces; ASCII covers what templates hold.
  while (pos < s.size() && is_space_byte(s[pos])) ++pos;
  return pos;
}

int count_newlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Decodes the body of a string literal as Python's "unicode-escape" codec
// does (jinja2 decodes literals that way).
std::string decode_string_literal(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    const char e = body[++i];
    auto hex = [&](size_t digits) {
      if (i + digits >= body.size()) {
        throw TemplateError("truncated \\x/\\u escape in a string literal", line);
      }
      const std::string h(body.substr(i + 1, digits));
      for (char d : h) {
        if (!std::isxdigit(static_cast<unsigned char>(d))) throw TemplateError("bad escape in a string literal", line);
      }
      i += digits;
      utf8_append(out, static_cast<char32_t>(std::stoul(h, nullptr, 16)));
    };
    switch (e) {
      case '\n': break;  // line continuation
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'a': out += '\a'; break;
      case 'x': hex(2); break;
      case 'u': hex(4); break;
      case 'U': hex(8); break;
      case 'N': throw TemplateError("\\N{...} escapes in string literals are not supported", line);
      default:
        if (e >= '0' && e <= '7') {
          unsigned v = static_cast<unsigned>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
            v = v * 8 + static_cast<unsigned>(body[++i] - '0');
          }
          utf8_append(out, static_cast<char32_t>(v));
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view source) : src_(source) {}

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      const size_t tag = find_tag(pos_);
      if (tag == std::string_view::npos) {
        emit_data(std::string(src_.substr(pos_)));
        break;
      }
      std::string text(src_.substr(pos_, tag - pos_));
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      const char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : 0;
      if (sign == '-') {
        text = rstrip_python(text);
      } else if (sign != '+' && kind != '{') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting) && text.find_first_not_of(" \t", l_pos) == std::string::npos) {
          text.resize(l_pos);
        }
      }
      line_ += count_newlines(src_.substr(pos_, tag - pos_));
      emit_data(std::move(text));
      pos_ = tag + 2 + (sign ? 1 : 0);
      if (kind == '#') {
        line_starting = lex_comment();
      } else if (kind == '%' && is_raw_block()) {
        line_starting = lex_raw();
      } else {
        line_starting = lex_tag(kind == '%');
      }
    }
    tokens_.push_back({Token::Type::End, "", line_});
    return std::move(tokens_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t p = src_.find('{', from); p != std::string_view::npos; p = src_.find('{', p + 1)) {
      if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) return p;
    }
    return std::string_view::npos;
  }

  void emit_data(std::string text) {
    if (!text.empty()) tokens_.push_back({Token::Type::Data, std::move(text), data_line_});
    data_line_ = line_;
  }

  // After a closing tag: `-` strips all following whitespace, otherwise
  // trim_blocks drops one newline after block and comment tags. Returns
  // whether the consumed text ended with a newline (jinja2's line_starting).
  bool after_close(char sign, bool block_like) {
    if (sign == '-') {
      const size_t end = skip_whitespace(src_, pos_);
      line_ += count_newlines(src_.substr(pos_, end - pos_));
      const bool nl = end > pos_ && src_[end - 1] == '\n';
      pos_ = end;
      data_line_ = line_;
      return nl;
    }
    if (sign != '+' && block_like && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
      ++line_;
      data_line_ = line_;
      return true;
    }
    data_line_ = line_;
    return false;
  }

  bool lex_comment() {
    const int start = line_;
    const size_t end = src_.find("#}", pos_);
    if (end == std::string_view::npos) throw TemplateError("unclosed comment", start);
    line_ += count_newlines(src_.substr(pos_, end - pos_));
    const char sign = end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : 0;
    pos_ = end + 2;
    return after_close(sign, true);
  }

  // At "raw" (after "{%", the sign and spaces)?
  bool is_raw_block() const {
    size_t p = skip_whitespace(src_, pos_);
    if (src_.substr(p, 3) != "raw") return false;
    p = skip_whitespace(src_, p + 3);
    return src_.substr(p, 2) == "%}" || src_.substr(p, 3) == "-%}";
  }

  bool lex_raw() {
    const int start = line_;
    size_t p = skip_whitespace(src_, pos_) + 3;
    p = skip_whitespace(src_, p);
    const bool strip_after_begin = src_[p] == '-';
    pos_ = p + (strip_after_begin ? 3 : 2);
    if (strip_after_begin) after_close('-', true);
    // Find {%[-+]? endraw [-+]?%}
    for (size_t q = src_.find("{%", pos_); q != std::string_view::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      const char sign = r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : 0;
      if (sign) ++r;
      r = skip_whitespace(src_, r);
      if (src_.substr(r, 6) != "endraw") continue;
      r = skip_whitespace(src_, r + 6);
      char close_sign = 0;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) close_sign = src_[r++];
      if (src_.substr(r, 2) != "%}") continue;
      std::string body(src_.substr(pos_, q - pos_));
      line_ += count_newlines(src_.substr(pos_, r - pos_));
      if (sign == '-') body = rstrip_python(body);
      tokens_.push_back({Token::Type::Data, std::move(body), start});
      pos_ = r + 2;
      return after_close(close_sign, true);
    }
    throw TemplateError("{% raw %} without {% endraw %}", start);
  }

  void push(Token::Type type, std::string text) { tokens_.push_back({type, std::move(text), line_}); }

  // Lexes the inside of {% ... %} or {{ ... }} up to and including its close.
  bool lex_tag(bool block) {
    const int start = line_;
    push(block ? Token::Type::BlockBegin : Token::Type::VariableBegin, "");
    int depth = 0;  // open ( [ {: a closing }} or %} inside them is an operator
    for (;;) {
      const size_t p = skip_whitespace(src_, pos_);
      line_ += count_newlines(src_.substr(pos_, p - pos_));
      pos_ = p;
      if (pos_ >= src_.size()) throw TemplateError(std::string("unclosed ") + (block ? "{%" : "{{") + " tag", start);
      const std::string_view rest = src_.substr(pos_);
      if (depth == 0) {
        const std::string_view close = block ? "%}" : "}}";
        char sign = 0;
        size_t len = 0;
        if (rest.substr(0, 2) == close) {
          len = 2;
        } else if ((rest[0] == '-' || rest[0] == '+') && rest.substr(1, 2) == close) {
          sign = rest[0];
          len = 3;
        }
        if (len) {
          pos_ += len;
          push(block ? Token::Type::BlockEnd : Token::Type::VariableEnd, "");
          return after_close(sign, block);
        }
      }
      const char c = rest[0];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t n = 1;
        while (n < rest.size() && (std::isalnum(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) ++n;
        push(Token::Type::Name, std::string(rest.substr(0, n)));
        pos_ += n;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        lex_number(rest);
      } else if (c == '\'' || c == '"') {
        size_t n = 1;
        while (n < rest.size() && rest[n] != c) n += rest[n] == '\\' ? 2 : 1;
        if (n >= rest.size()) throw TemplateError("unterminated string literal", line_);
        push(Token::Type::String, decode_string_literal(rest.substr(1, n - 1), line_));
        line_ += count_newlines(rest.substr(0, n));
        pos_ += n + 1;
      } else {
        static constexpr std::array<std::string_view, 6> two = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (std::string_view t : two) {
          if (rest.substr(0, 2) == t) op = t;
        }
        if (op.empty()) {
          if (std::string_view("+-*/%~<>=()[]{},.:|;").find(c) == std::string_view::npos) {
            throw TemplateError(std::string("unexpected character '") + c + "' in a tag", line_);
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        push(Token::Type::Operator, op);
        pos_ += op.size();
      }
    }
  }

  void lex_number(std::string_view rest) {
    auto digits = [&](size_t n) {
      while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == '_')) ++n;
      return n;
    };
    size_t n = digits(0);
    bool is_float = false;
    // After a '.', as in items.0.1, only an integer (jinja2: (?<!\.) on floats).
    const bool after_dot = !tokens_.empty() && tokens_.back().type == Token::Type::Operator && tokens_.back().text == ".";
    if (!after_dot && n + 1 < rest.size() && rest[n] == '.' && std::isdigit(static_cast<unsigned char>(rest[n + 1]))) {
      n = digits(n + 1);
      is_float = true;
    }
    if (!after_dot && n < rest.size() && (rest[n] == 'e' || rest[n] == 'E')) {
      size_t m = n + 1;
      if (m < rest.size() && (rest[m] == '+' || rest[m] == '-')) ++m;
      if (m < rest.size() && std::isdigit(static_cast<unsigned char>(rest[m]))) {
        n = digits(m);
        is_float = true;
      }
    }
    std::string text;
    for (char ch : rest.substr(0, n)) {
      if (ch != '_') text += ch;
    }
    push(is_float ? Token::Type::Float : Token::Type::Integer, text);
    pos_ += n;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int data_line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) {
  // jinja2 turns \r\n and \r into \n, then drops one trailing newline
  // (keep_trailing_newline=False).
  std::string text;
  text.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      text += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      text += source[i];
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return Lexer(text).run();
}

}  // namespace vkmind::jinja
