#include "model/tokenizer/bpe_tokenizer.h"

#include <queue>

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/utf8.h"

namespace vkmind::tok {

ByteLevelBpe::ByteLevelBpe(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                           ByteLevelBpeConfig config, std::vector<std::string> warnings)
    : Tokenizer(std::move(vocab), std::move(warnings)), config_(std::move(config)) {
  // Merges are keyed by piece ids, which makes the inner loop hash integers
  // instead of building strings.
  size_t skipped = 0;
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto ia = vocab_.find(a), ib = vocab_.find(b), ir = vocab_.find(a + b);
    if (!ia || !ib || !ir) {
      ++skipped;
      continue;
    }
    // On a duplicate pair the first (highest priority) rank wins.
    merges_.emplace(pair_key(*ia, *ib), Merge{static_cast<int32_t>(rank), *ir});
  }
  if (skipped > 0) {
    add_warning(std::to_string(skipped) + " of " + std::to_string(merges.size()) +
                " merges name pieces missing from the vocabulary and were ignored");
  }
}

void ByteLevelBpe::encode_text(std::string_view text, bool, std::vector<int32_t>& out) const {
  std::string prefixed;
  if (config_.add_prefix_space && !text.empty() && text.front() != ' ') {
    prefixed.reserve(text.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  for (std::string_view piece : config_.splitter.split(text)) {
    const std::string word = byte_level::encode(piece);
    if (config_.ignore_merges) {
      if (auto id = vocab_.find(word)) {
        out.push_back(*id);
        continue;
      }
    }
    merge_word(word, out);
  }
}

void ByteLevelBpe::merge_word(const std::string& word, std::vector<int32_t>& out) const {
  // One symbol per character of the mapped word, as a doubly linked list.
  struct Sym {
    int32_t id;  // -1: a character missing from the vocabulary (never merges)
    int prev, next;
    std::string_view text;
  };
  std::vector<Sym> syms;
  for (size_t i = 0; i < word.size();) {
    size_t len = 0;
    utf8::decode(word, i, len);
    const auto id = vocab_.find(word.substr(i, len));
    syms.push_back({id ? *id : -1, static_cast<int>(syms.size()) - 1, static_cast<int>(syms.size()) + 1,
                    std::string_view(word).substr(i, len)});
    i += len;
  }
  if (syms.empty()) return;
  syms.back().next = -1;

  struct Cand {
    int32_t rank;
    int left, right;
    int32_t left_id, right_id;  // to detect candidates made stale by other merges
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> queue;
  auto consider = [&](int l, int r) {
    if (l < 0 || r < 0 || syms[l].id < 0 || syms[r].id < 0) return;
    auto it = merges_.find(pair_key(syms[l].id, syms[r].id));
    if (it != merges_.end()) queue.push({it->second.rank, l, r, syms[l].id, syms[r].id});
  };
  for (size_t i = 0; i + 1 < syms.size(); ++i) consider(static_cast<int>(i), static_cast<int>(i) + 1);

  while (!queue.empty()) {
    const Cand c = queue.top();
    queue.pop();
    Sym& l = syms[c.left];
    Sym& r = syms[c.right];
    if (l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;
    l.id = merges_.at(pair_key(c.left_id, c.right_id)).result;
    l.text = std::string_view(l.text.data(), l.text.size() + r.text.size());
    l.next = r.next;
    if (r.next >= 0) syms[r.next].prev = c.left;
    r.id = -2;  // dead
    r.prev = r.next = -1;
    consider(l.prev, c.left);
    consider(c.left, l.next);
  }

  for (int i = 0; i >= 0; i = syms[i].next) {
    if (syms[i].id >= 0) {
      out.push_back(syms[i].id);
      continue;
    }
    // A character outside the vocabulary: emit any single-byte pieces it is
    // made of, dropping what has no token (the reference does the same).
    for (char ch : syms[i].text) {
      if (auto id = vocab_.find(std::string(1, ch))) out.push_back(*id);
    }
  }
}

std::string ByteLevelBpe::normal_token_bytes(int32_t id) const { return byte_level::decode(vocab_.pieces[id]); }

}  // namespace vkmind::tok
