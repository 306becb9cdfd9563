// libedit, loaded when the chat first reads from a terminal instead of at
// process start: it and its dependencies (libtinfo, libbsd, libmd) cost every
// vkmind command ~1 ms of dynamic linking, and only `chat` edits lines.
#pragma once

#include <histedit.h>

namespace vkmind::cli {

// The functions the line reader calls, resolved from libedit.so.2.
struct EditLibrary {
  EditLine* (*el_init)(const char*, FILE*, FILE*, FILE*);
  int (*el_set)(EditLine*, int, ...);
  int (*el_get)(EditLine*, int, ...);
  void (*el_end)(EditLine*);
  const LineInfo* (*el_line)(EditLine*);
  const char* (*el_gets)(EditLine*, int*);
  History* (*history_init)();
  int (*history)(History*, HistEvent*, int, ...);
  void (*history_end)(History*);
};

// Loaded once per process (thread-safe) and kept to its end; nullptr when it
// cannot be (the reader then reads plain lines).
const EditLibrary* edit_library();

}  // namespace vkmind::cli
