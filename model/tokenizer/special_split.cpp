#include "model/tokenizer/special_split.h"

#include <algorithm>

namespace vkmind::tok {

SpecialSplitter::SpecialSplitter(const Vocab& vocab) {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (vocab.pieces[id].empty()) continue;
    const TokenType t = vocab.types[id];
    if (t == TokenType::UserDefined) always_.push_back(id);
    if (t == TokenType::UserDefined || t == TokenType::Control || t == TokenType::Unknown) special_.push_back(id);
  }
  auto longer = [&](int32_t a, int32_t b) {
    const size_t la = vocab.pieces[a].size(), lb = vocab.pieces[b].size();
    return la != lb ? la > lb : a < b;
  };
  std::sort(always_.begin(), always_.end(), longer);
  std::sort(special_.begin(), special_.end(), longer);
}

std::vector<Fragment> SpecialSplitter::split(std::string_view text, const Vocab& vocab, bool parse_special) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back({text, -1});
  const auto& list = parse_special ? special_ : always_;
  std::vector<Fragment> next;
  for (int32_t id : list) {
    const std::string& piece = vocab.pieces[id];
    bool any = false;
    for (const auto& f : frags) {
      if (f.token >= 0 || f.text.find(piece) == std::string_view::npos) continue;
      any = true;
      break;
    }
    if (!any) continue;  // the common case: nothing to cut
    next.clear();
    for (const auto& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      std::string_view rest = f.text;
      for (size_t at; (at = rest.find(piece)) != std::string_view::npos;) {
        if (at > 0) next.push_back({rest.substr(0, at), -1});
        next.push_back({{}, id});
        rest.remove_prefix(at + piece.size());
      }
      if (!rest.empty()) next.push_back({rest, -1});
    }
    frags.swap(next);
  }
  return frags;
}

}  // namespace vkmind::tok
