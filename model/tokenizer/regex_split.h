// Pre-tokenizer splitting with PCRE2 (UTF + Unicode properties, so \p{L},
// \p{N}, \s behave as in the reference tokenizers; std::regex cannot).
//
// Semantics follow Hugging Face's Split(behavior = "Isolated") chained in a
// Sequence, which is also what llama.cpp does with its per-model regex lists:
// each pattern is applied in turn to every piece produced so far; matches and
// the text between them both become pieces. A pattern sees only its piece, so
// look-arounds and `$` stop at the piece's edges.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vkmind::tok {

class RegexSplitter {
 public:
  RegexSplitter() = default;
  // Throws std::invalid_argument with PCRE2's message for a bad pattern.
  explicit RegexSplitter(const std::vector<std::string>& patterns);

  // Pieces of `text` (views into it), in order, none empty. Input that is not
  // valid UTF-8 is returned whole as one piece: callers sanitize first.
  std::vector<std::string_view> split(std::string_view text) const;

  bool empty() const { return patterns_.empty(); }

 private:
  struct Compiled;
  std::vector<std::shared_ptr<const Compiled>> patterns_;
};

}  // namespace vkmind::tok
