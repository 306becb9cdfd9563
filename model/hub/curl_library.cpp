#include "model/hub/curl_library.h"

#include <dlfcn.h>

#include <string>

#include "model/hub/hub_error.h"

namespace vkmind::hub {

namespace {

constexpr const char* kLibrary = "libcurl.so.4";

std::string load_error(const std::string& what) {
  return std::string("cannot use ") + kLibrary + " (install libcurl4 to download from the Hub): " + what;
}

template <typename Function>
void resolve(void* library, const char* name, Function& function) {
  void* symbol = dlsym(library, name);
  if (!symbol) throw HubError(load_error(std::string("it has no ") + name));
  function = reinterpret_cast<Function>(symbol);
}

CurlLibrary load() {
  // Never closed: libcurl and its TLS libraries do not all unload cleanly.
  void* library = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char* detail = dlerror();
    throw HubError(load_error(detail ? detail : "dlopen failed"));
  }
  CurlLibrary c{};
  CURLcode (*global_init)(long) = nullptr;
  resolve(library, "curl_global_init", global_init);
  resolve(library, "curl_easy_init", c.easy_init);
  resolve(library, "curl_easy_setopt", c.easy_setopt);
  resolve(library, "curl_easy_perform", c.easy_perform);
  resolve(library, "curl_easy_getinfo", c.easy_getinfo);
  resolve(library, "curl_easy_cleanup", c.easy_cleanup);
  resolve(library, "curl_easy_strerror", c.easy_strerror);
  resolve(library, "curl_slist_append", c.slist_append);
  resolve(library, "curl_slist_free_all", c.slist_free_all);
  // Not thread-safe in libcurl: done here, once, before the first handle.
  if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw HubError(load_error("curl_global_init failed"));
  return c;
}

}  // namespace

const CurlLibrary& curl() {
  // A throw leaves it uninitialized, so a later request tries again.
  static const CurlLibrary library = load();
  return library;
}

}  // namespace vkmind::hub
