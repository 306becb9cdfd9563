#include "model/tokenizer/stream_decoder.h"

#include "model/tokenizer/utf8.h"

namespace vkmind::tok {

std::string StreamDecoder::push(int32_t id) {
  if (skip_special_ && tok_.is_control(id)) return {};
  pending_ += tok_.token_bytes(id);
  const size_t hold = utf8::incomplete_tail(pending_);
  // Bytes before the held tail can never complete into anything valid if
  // they are not valid now: they are emitted as U+FFFD.
  std::string ready = utf8::sanitize(std::string_view(pending_).substr(0, pending_.size() - hold));
  pending_.erase(0, pending_.size() - hold);
  return ready;
}

std::string StreamDecoder::flush() {
  std::string rest = utf8::sanitize(pending_);
  pending_.clear();
  return rest;
}

}  // namespace vkmind::tok
