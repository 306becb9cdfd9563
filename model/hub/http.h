// HTTP through libcurl, one request at a time, redirects left to the caller
// (the Hub's metadata is on the 302 itself, and a redirect to another host
// must not carry the token). Failures come back as HubUnreachable,
// TransientError or HubError; HTTP statuses are returned, not thrown.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vkmind::hub {

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-case; the last value of a repeated header
  std::string body;                            // GET without a sink only
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpRequest {
  std::string url;
  bool head = false;
  std::vector<std::string> headers;  // "Name: value"
  long connect_timeout_s = 10;
  long stall_timeout_s = 30;
  // Body bytes of a 2xx answer go here (with its status) instead of into
  // HttpResponse::body; returning false aborts the transfer.
  std::function<bool(long status, const char* data, size_t size)> sink;
};

HttpResponse http_request(const HttpRequest& request);

// "scheme://host:port" of a URL, to tell whether a redirect leaves the host.
std::string url_origin(const std::string& url);
// `location` (absolute, or a path on the same host) made absolute against `base`.
std::string resolve_location(const std::string& base, const std::string& location);
// A repository path with each segment percent-encoded (the '/' kept).
std::string encode_path(const std::string& path);

}  // namespace vkmind::hub
