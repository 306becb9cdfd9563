// libcurl, loaded on the first Hub request instead of at process start: its
// dependency chain (TLS, Kerberos, LDAP, IDN, ...) costs every vkmind
// command ~7 ms of dynamic linking, and most commands never touch the network.
#pragma once

#include <curl/curl.h>

namespace vkmind::hub {

// The functions the Hub client calls, resolved from libcurl.so.4.
struct CurlLibrary {
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// Loaded and curl_global_init'ed once per process (thread-safe); kept to the
// end of the process. Throws HubError naming the library when it cannot be
// loaded or initialized.
const CurlLibrary& curl();

}  // namespace vkmind::hub
