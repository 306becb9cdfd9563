// Reads the chat's messages: line editing and history (libedit) on a
// terminal, plain reads from a pipe or file. A message continues on the next
// line after a trailing backslash, and a paste of several lines on a
// terminal is one message. Ctrl-C is reported, not fatal.
#pragma once

#include <memory>
#include <string>

#include "tools/interrupt.h"

namespace vkmind::cli {

enum class ReadStatus {
  Message,      // `text` holds it (without the final newline)
  EndOfInput,   // Ctrl-D on an empty line, or the end of a pipe
  Interrupted,  // Ctrl-C; `text` holds what was typed so far (empty at an empty prompt)
};

struct ReadResult {
  ReadStatus status;
  std::string text;
};

class LineReader {
 public:
  explicit LineReader(InterruptGuard& interrupts);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  ReadResult read(const std::string& prompt, const std::string& continuation_prompt);
  bool editing() const;  // libedit is in use (stdin and stdout are a terminal)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vkmind::cli
