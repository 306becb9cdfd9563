// UTF-8 helpers for Python's code-point view of strings: len(), indexing,
// slicing and str.strip() count characters, not bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vkmind::jinja {

size_t utf8_length(std::string_view s);
std::u32string utf8_decode(std::string_view s);
std::string utf8_encode(std::u32string_view s);
void utf8_append(std::string& out, char32_t c);
// Python's str.isspace() for one code point.
bool is_python_space(char32_t c);
// Python's str.strip()/lstrip()/rstrip(): whitespace when `chars` is null.
std::string python_strip(std::string_view s, const std::string* chars, bool left, bool right);
std::string ascii_upper(std::string_view s);
std::string ascii_lower(std::string_view s);
// Python's str.upper()/lower() for every script glibc's C.UTF-8 locale knows
// (one code point to one, plus ß -> SS); ASCII only if that locale is missing.
std::string unicode_upper(std::string_view s);
std::string unicode_lower(std::string_view s);
char32_t unicode_upper(char32_t c);
char32_t unicode_lower(char32_t c);
bool unicode_is_letter(char32_t c);

}  // namespace vkmind::jinja
