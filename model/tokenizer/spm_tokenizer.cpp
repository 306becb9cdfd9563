#include "model/tokenizer/spm_tokenizer.h"

#include <cstdio>
#include <limits>
#include <queue>

#include "model/tokenizer/utf8.h"

namespace vkmind::tok {

namespace {

const std::string kSpace = "\xE2\x96\x81";  // U+2581 '▁'

// "<0x0A>" -> 10; -1 for anything else.
int parse_byte_piece(const std::string& p) {
  if (p.size() != 6 || p.compare(0, 3, "<0x") != 0 || p[5] != '>') return -1;
  unsigned v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return -1;
  }
  return static_cast<int>(v);
}

}  // namespace

SentencePieceBpe::SentencePieceBpe(Vocab vocab, bool add_space_prefix, std::vector<std::string> warnings)
    : Tokenizer(std::move(vocab), std::move(warnings)), add_space_prefix_(add_space_prefix) {
  byte_token_.fill(-1);
  token_byte_.assign(vocab_.pieces.size(), -1);
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    if (vocab_.types[id] != TokenType::Byte) continue;
    const int b = parse_byte_piece(vocab_.pieces[id]);
    if (b < 0) continue;
    token_byte_[id] = static_cast<int16_t>(b);
    if (byte_token_[b] < 0) byte_token_[b] = id;
  }
}

void SentencePieceBpe::emit_bytes(std::string_view text, std::vector<int32_t>& out) const {
  for (char ch : text) {
    const int32_t id = byte_token_[static_cast<unsigned char>(ch)];
    if (id >= 0) out.push_back(id);
    else if (vocab_.unk) out.push_back(*vocab_.unk);
  }
}

void SentencePieceBpe::encode_text(std::string_view raw, bool after_special, std::vector<int32_t>& out) const {
  // Escape spaces; the dummy prefix goes only where the reference puts it:
  // at the start and right after a special token.
  std::string text;
  text.reserve(raw.size() + 8);
  if (add_space_prefix_ && after_special) text += kSpace;
  for (char c : raw) {
    if (c == ' ') text += kSpace;
    else text.push_back(c);
  }

  struct Sym {
    size_t start, len;
    int prev, next;
  };
  std::vector<Sym> syms;
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    utf8::decode(text, i, len);
    syms.push_back({i, len, static_cast<int>(syms.size()) - 1, static_cast<int>(syms.size()) + 1});
    i += len;
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  struct Cand {
    float score;
    int left, right;
    size_t size;  // merged byte length: a mismatch later means the candidate is stale
    bool operator<(const Cand& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Cand> queue;  // highest score first, leftmost on ties
  auto consider = [&](int l, int r) {
    if (l < 0 || r < 0) return;
    const std::string merged = text.substr(syms[l].start, syms[l].len + syms[r].len);
    auto id = vocab_.find(merged);
    // -inf marks pieces that merging never forms (see Vocab::scores).
    if (id && vocab_.scores[*id] != -std::numeric_limits<float>::infinity()) {
      queue.push({vocab_.scores[*id], l, r, merged.size()});
    }
  };
  for (size_t i = 0; i + 1 < syms.size(); ++i) consider(static_cast<int>(i), static_cast<int>(i) + 1);

  while (!queue.empty()) {
    const Cand c = queue.top();
    queue.pop();
    Sym& l = syms[c.left];
    Sym& r = syms[c.right];
    if (l.len == 0 || r.len == 0 || l.next != c.right || l.len + r.len != c.size) continue;
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }

  // Every merge produced a vocabulary piece, so a symbol is either a piece or
  // a single character the vocabulary lacks: that one goes out as bytes.
  for (int i = 0; i >= 0; i = syms[i].next) {
    const std::string_view s = std::string_view(text).substr(syms[i].start, syms[i].len);
    if (auto id = vocab_.find(std::string(s))) out.push_back(*id);
    else emit_bytes(s, out);
  }
}

std::string SentencePieceBpe::normal_token_bytes(int32_t id) const {
  if (token_byte_[id] >= 0) return std::string(1, static_cast<char>(token_byte_[id]));
  const std::string& p = vocab_.pieces[id];
  std::string out;
  out.reserve(p.size());
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, kSpace.size(), kSpace) == 0) {
      out.push_back(' ');
      i += kSpace.size();
    } else {
      out.push_back(p[i++]);
    }
  }
  return out;
}

}  // namespace vkmind::tok
