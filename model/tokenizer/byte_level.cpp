#include "model/tokenizer/byte_level.h"

#include <array>

#include "model/tokenizer/utf8.h"

namespace vkmind::tok::byte_level {

namespace {

struct Tables {
  std::array<std::string, 256> to_char;
  std::array<int, 0x200> to_byte{};  // all mapped code points are < 0x200
  Tables() {
    to_byte.fill(-1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : next++;
      to_char[b] = utf8::encode(static_cast<char32_t>(cp));
      to_byte[cp] = b;
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

const std::string& byte_to_char(unsigned char b) { return tables().to_char[b]; }

std::string encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += byte_to_char(static_cast<unsigned char>(c));
  return out;
}

std::optional<unsigned char> char_to_byte(char32_t cp) {
  if (cp >= tables().to_byte.size()) return std::nullopt;
  const int b = tables().to_byte[cp];
  if (b < 0) return std::nullopt;
  return static_cast<unsigned char>(b);
}

std::string decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    const char32_t cp = utf8::decode(text, i, len);
    if (auto b = char_to_byte(cp)) {
      out.push_back(static_cast<char>(*b));
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace vkmind::tok::byte_level
