#include "model/tokenizer/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <memory>
#include <new>
#include <stdexcept>

#include "model/tokenizer/utf8.h"

namespace vkmind::tok {

struct RegexSplitter::Compiled {
  pcre2_code* code = nullptr;
  explicit Compiled(const std::string& pattern) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                         PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw std::invalid_argument("bad pre-tokenizer regex at offset " + std::to_string(err_offset) + ": " +
                                  reinterpret_cast<const char*>(msg));
    }
    // JIT makes long prompts several times faster; when PCRE2 was built
    // without it this fails and the interpreter is used instead.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  }
  ~Compiled() { pcre2_code_free(code); }
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;
};

RegexSplitter::RegexSplitter(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) patterns_.push_back(std::make_shared<const Compiled>(p));
}

namespace {

// Splits one piece with one pattern, appending matches and gaps to `out`.
void split_piece(const pcre2_code* code, pcre2_match_data* md, std::string_view piece,
                 std::vector<std::string_view>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  size_t pos = 0;   // where the next search starts
  size_t last = 0;  // end of the last emitted piece
  while (pos <= piece.size()) {
    // The input was validated once by split(); re-checking it on every call
    // would make splitting quadratic.
    const int rc = pcre2_match(code, subject, piece.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) break;  // PCRE2_ERROR_NOMATCH, or a resource limit: keep the rest whole
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t start = ov[0], end = ov[1];
    if (end == start) {
      // An empty match splits nothing; step over one character.
      if (start >= piece.size()) break;
      size_t len = 0;
      utf8::decode(piece, start, len);
      pos = start + len;
      continue;
    }
    if (start > last) out.push_back(piece.substr(last, start - last));
    out.push_back(piece.substr(start, end - start));
    last = pos = end;
  }
  if (last < piece.size()) out.push_back(piece.substr(last));
}

}  // namespace

std::vector<std::string_view> RegexSplitter::split(std::string_view text) const {
  std::vector<std::string_view> pieces;
  if (text.empty()) return pieces;
  pieces.push_back(text);
  if (patterns_.empty() || !utf8::is_valid(text)) return pieces;
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> md(pcre2_match_data_create(1, nullptr),
                                                                     &pcre2_match_data_free);
  if (!md) throw std::bad_alloc();
  std::vector<std::string_view> next;
  for (const auto& p : patterns_) {
    next.clear();
    for (auto piece : pieces) split_piece(p->code, md.get(), piece, next);
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace vkmind::tok
