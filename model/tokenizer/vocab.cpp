#include "model/tokenizer/vocab.h"

namespace vkmind::tok {

void Vocab::index() {
  piece_to_id.clear();
  piece_to_id.reserve(pieces.size());
  for (int32_t id = 0; id < size(); ++id) piece_to_id.emplace(pieces[id], id);
}

}  // namespace vkmind::tok
