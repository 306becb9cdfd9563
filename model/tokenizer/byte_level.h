// GPT-2's byte <-> printable-character map used by byte-level BPE. Every byte
// gets a visible character so that merges and vocab entries are plain text:
// printable Latin-1 bytes map to themselves, the rest to U+0100 upwards
// (space becomes 'Ġ', newline 'Ċ').
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vkmind::tok::byte_level {

// The UTF-8 text of the character that stands for `b`.
const std::string& byte_to_char(unsigned char b);

// Maps raw bytes to their byte-level characters.
std::string encode(std::string_view bytes);

// The byte a character stands for, or nullopt for characters outside the map.
std::optional<unsigned char> char_to_byte(char32_t cp);

// Inverse of encode(); characters outside the map are kept as UTF-8 (added
// tokens written in plain text).
std::string decode(std::string_view text);

}  // namespace vkmind::tok::byte_level
