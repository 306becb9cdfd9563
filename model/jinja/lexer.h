// Splits template source into tokens the way jinja2's lexer does, with the
// Hugging Face Hub's settings: trim_blocks (the newline after a block or
// comment tag is dropped), lstrip_blocks (spaces and tabs before a block or
// comment tag on its own line are dropped), `-` / `+` whitespace control,
// {% raw %}, and no trailing newline kept at the end of the template.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vkmind::jinja {

struct Token {
  enum class Type { Data, BlockBegin, BlockEnd, VariableBegin, VariableEnd, Name, String, Integer, Float, Operator, End };
  Type type;
  std::string text;  // data, name, operator, decoded string literal or number spelling
  int line;
};

std::vector<Token> tokenize(std::string_view source);

}  // namespace vkmind::jinja
