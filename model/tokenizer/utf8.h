// UTF-8 helpers shared by the tokenizers and the streaming decoder.
// Invalid input is never an error here: tokenizers must not crash on bad
// bytes, so callers choose between validating and replacing with U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vkmind::tok::utf8 {

inline constexpr char32_t kReplacement = 0xFFFD;

// Length of the well-formed UTF-8 sequence starting at s[pos], or 0 when the
// bytes there are not one (bad lead byte, truncated, overlong, surrogate,
// above U+10FFFF).
size_t valid_sequence_length(std::string_view s, size_t pos);

// Decodes the sequence at s[pos]; `len` receives its byte length (>= 1). An
// invalid byte decodes to U+FFFD with len 1.
char32_t decode(std::string_view s, size_t pos, size_t& len);

void append(std::string& out, char32_t cp);
std::string encode(char32_t cp);

bool is_valid(std::string_view s);

// Replaces every invalid byte with U+FFFD (one per byte, as Python's
// "replace" handler does per maximal bad subpart — close enough for text
// that is already broken).
std::string sanitize(std::string_view s);

// Number of bytes at the end of `s` that form the beginning of a multi-byte
// character still waiting for its continuation bytes (0..3). Bytes that can
// never become valid are not counted: they are emitted (as U+FFFD) instead.
size_t incomplete_tail(std::string_view s);

}  // namespace vkmind::tok::utf8
