#include "model/tokenizer/utf8.h"

namespace vkmind::tok::utf8 {

namespace {

bool is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Expected length from the lead byte, 0 for bytes that cannot start a char.
size_t lead_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// The second byte's allowed range depends on the lead byte (RFC 3629 table):
// this is what rules out overlongs, surrogates and code points > U+10FFFF.
bool second_ok(unsigned char lead, unsigned char c) {
  switch (lead) {
    case 0xE0: return c >= 0xA0 && c <= 0xBF;
    case 0xED: return c >= 0x80 && c <= 0x9F;
    case 0xF0: return c >= 0x90 && c <= 0xBF;
    case 0xF4: return c >= 0x80 && c <= 0x8F;
    default: return is_cont(c);
  }
}

}  // namespace

size_t valid_sequence_length(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  const auto lead = static_cast<unsigned char>(s[pos]);
  const size_t n = lead_length(lead);
  if (n == 0 || pos + n > s.size()) return 0;
  if (n == 1) return 1;
  if (!second_ok(lead, static_cast<unsigned char>(s[pos + 1]))) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (!is_cont(static_cast<unsigned char>(s[pos + i]))) return 0;
  }
  return n;
}

char32_t decode(std::string_view s, size_t pos, size_t& len) {
  len = valid_sequence_length(s, pos);
  if (len == 0) {
    len = 1;
    return kReplacement;
  }
  const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(s[pos + i])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

void append(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacement;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode(char32_t cp) {
  std::string s;
  append(s, cp);
  return s;
}

bool is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = valid_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize(std::string_view s) {
  if (is_valid(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const size_t n = valid_sequence_length(s, i);
    if (n == 0) {
      append(out, kReplacement);
      i += 1;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

size_t incomplete_tail(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence is cut short.
  const size_t lookback = s.size() < 3 ? s.size() : 3;
  for (size_t k = 1; k <= lookback; ++k) {
    const size_t pos = s.size() - k;
    const auto c = static_cast<unsigned char>(s[pos]);
    if (is_cont(c)) continue;
    const size_t need = lead_length(c);
    if (need <= k) return 0;  // ASCII, invalid lead, or already complete
    // The bytes present so far must be a valid prefix, or waiting is useless.
    if (k >= 2 && !second_ok(c, static_cast<unsigned char>(s[pos + 1]))) return 0;
    for (size_t i = 2; i < k; ++i) {
      if (!is_cont(static_cast<unsigned char>(s[pos + i]))) return 0;
    }
    return k;
  }
  return 0;
}

}  // namespace vkmind::tok::utf8
