#include "tools/edit_library.h"

#include <dlfcn.h>

#include <optional>

namespace vkmind::cli {

namespace {

template <typename Function>
bool resolve(void* library, const char* name, Function& function) {
  void* symbol = dlsym(library, name);
  function = reinterpret_cast<Function>(symbol);
  return symbol != nullptr;
}

std::optional<EditLibrary> load() {
  void* library = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);  // never closed: kept to the end
  if (!library) return std::nullopt;
  EditLibrary e{};
  const bool all = resolve(library, "el_init", e.el_init) && resolve(library, "el_set", e.el_set) &&
                   resolve(library, "el_get", e.el_get) && resolve(library, "el_end", e.el_end) &&
                   resolve(library, "el_line", e.el_line) && resolve(library, "el_gets", e.el_gets) &&
                   resolve(library, "history_init", e.history_init) && resolve(library, "history", e.history) &&
                   resolve(library, "history_end", e.history_end);
  if (!all) return std::nullopt;
  return e;
}

}  // namespace

const EditLibrary* edit_library() {
  static const std::optional<EditLibrary> library = load();
  return library ? &*library : nullptr;
}

}  // namespace vkmind::cli
