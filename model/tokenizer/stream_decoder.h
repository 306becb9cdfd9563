// Turns generated token ids into text as they arrive. A token may end in the
// middle of a UTF-8 character (byte-level BPE pieces, <0xNN> byte tokens);
// those bytes are held back until the character is complete, so every string
// returned is valid UTF-8 that can be printed at once.
#pragma once

#include <cstdint>
#include <string>

#include "model/tokenizer/tokenizer.h"

namespace vkmind::tok {

class StreamDecoder {
 public:
  // skip_special: control tokens (<|im_end|>, </s>) produce no text.
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true)
      : tok_(tokenizer), skip_special_(skip_special) {}

  // Text that became complete with this token (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back; an unfinished character becomes U+FFFD.
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace vkmind::tok
