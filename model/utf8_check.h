// Strict UTF-8 validation for names read from model files (GGUF keys and
// tensor names, safetensors names), and a printable form for error messages
// so that a hostile name cannot garble the terminal.
#pragma once

#include <string>
#include <string_view>

namespace vkmind {

// Well-formed UTF-8: no overlongs, surrogates, or code points above U+10FFFF.
bool is_valid_utf8(std::string_view s);

// s with non-printable or invalid bytes as \xNN, cut to max_len bytes.
std::string printable_name(std::string_view s, size_t max_len = 120);

}  // namespace vkmind
