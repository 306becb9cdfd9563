#include "model/hub/http.h"

#include <cctype>
#include <memory>

#include "model/hub/curl_library.h"
#include "model/hub/hub_error.h"

namespace vkmind::hub {

namespace {

struct CurlDeleter {
  void operator()(CURL* handle) const { curl().easy_cleanup(handle); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl().slist_free_all(list); }
};
using CurlHeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

constexpr size_t kMaxErrorBody = 64 * 1024;  // an error page is read only to quote it

struct Transfer {
  CURL* handle;
  const HttpRequest* request;
  HttpResponse* response;
  bool sink_refused = false;
};

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after a 100 Continue)
  } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    t->response->headers[name] = trim(line.substr(colon + 1));
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl().easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->sink && status >= 200 && status < 300) {
    if (!t->request->sink(status, data, n)) {
      t->sink_refused = true;
      return 0;  // aborts the transfer
    }
    return n;
  }
  if (t->response->body.size() < kMaxErrorBody) t->response->body.append(data, std::min(n, kMaxErrorBody));
  return n;
}

void throw_for(CURLcode code, const std::string& url, const char* detail) {
  std::string message = url + ": " + curl().easy_strerror(code);
  if (detail && *detail) message += " (" + std::string(detail) + ")";
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      throw HubUnreachable(message);
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      throw TransientError(message);
    default:
      throw HubError(message);
  }
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
  const CurlLibrary& c = curl();
  CurlHandle handle(c.easy_init());
  if (!handle) throw HubError(request.url + ": libcurl could not create a handle");
  CURL* h = handle.get();
  HttpResponse response;
  Transfer transfer{h, &request, &response};
  char error_detail[CURL_ERROR_SIZE] = {};

  CurlHeaderList headers;
  for (const std::string& header : request.headers) {
    curl_slist* grown = c.slist_append(headers.get(), header.c_str());
    if (!grown) throw HubError(request.url + ": out of memory for the request headers");
    headers.release();
    headers.reset(grown);
  }
  c.easy_setopt(h, CURLOPT_URL, request.url.c_str());
  c.easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  c.easy_setopt(h, CURLOPT_USERAGENT, "vkmind/0.1");
  c.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  c.easy_setopt(h, CURLOPT_NOBODY, request.head ? 1L : 0L);
  c.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_s);
  // A stall (under one byte a second for this long) is a transient failure, not a hang.
  c.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  c.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_s);
  c.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  c.easy_setopt(h, CURLOPT_ERRORBUFFER, error_detail);
  c.easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  c.easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  c.easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
  c.easy_setopt(h, CURLOPT_WRITEDATA, &transfer);

  const CURLcode code = c.easy_perform(h);
  if (transfer.sink_refused) throw HubError(request.url + ": the download could not be written to disk");
  if (code != CURLE_OK) throw_for(code, request.url, error_detail);
  c.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string url_origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = url.find('/', scheme + 3);
  std::string origin = url.substr(0, path);
  for (char& c : origin) c = char(std::tolower(static_cast<unsigned char>(c)));
  return origin;
}

std::string resolve_location(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.rfind("//", 0) == 0) return base.substr(0, base.find("://") + 1) + location;
  if (!location.empty() && location[0] == '/') return url_origin(base) + location;
  const size_t last_slash = base.rfind('/');
  return base.substr(0, last_slash + 1) + location;
}

std::string encode_path(const std::string& path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(char(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace vkmind::hub
