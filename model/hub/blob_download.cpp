#include "model/hub/blob_download.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "model/hub/hub_error.h"
#include "model/hub/progress.h"
#include "model/hub/sha256.h"

namespace fs = std::filesystem;

namespace vkmind::hub {

namespace {

constexpr int kMaxRedirects = 10;

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= size_t(n);
  }
  return true;
}

uint64_t size_on_disk(const fs::path& path) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  return ec ? 0 : uint64_t(size);
}

// One GET of the rest of the file, appended to `partial`; a cut connection
// throws TransientError with what arrived kept for the next try.
void fetch_rest(const HubApi& api, const std::string& repo, const FileMetadata& meta, const fs::path& partial) {
  uint64_t offset = size_on_disk(partial);
  if (meta.size > 0 && offset == meta.size) return;  // complete: a previous run stopped before the rename
  if (meta.size > 0 && offset > meta.size) {
    fs::remove(partial);
    offset = 0;
  }
  UniqueFd fd(::open(partial.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw HubError(partial.string() + ": cannot be written: " + std::strerror(errno));

  DownloadProgress progress(api.config().progress, meta.file, meta.size, offset);
  std::string url = meta.download_url;
  for (int hops = 0;; ++hops) {
    HttpRequest get = api.request(url);
    if (offset > 0) get.headers.push_back("Range: bytes=" + std::to_string(offset) + "-");
    bool restarted = false;
    get.sink = [&](long status, const char* data, size_t size) {
      // A server that ignores the Range sends the whole file again: start over.
      if (status == 200 && offset > 0 && !restarted) {
        restarted = true;
        if (::ftruncate(fd.get(), 0) != 0) return false;
      }
      progress.advance(size);
      return write_all(fd.get(), data, size);
    };
    const HttpResponse response = http_request(get);
    if (response.status == 416) {
      // The range starts at or past the end: what we have is not this file.
      if (::ftruncate(fd.get(), 0) != 0) throw HubError(partial.string() + ": cannot be truncated");
      throw TransientError(url + ": HTTP 416 for a resumed download; starting the file over");
    }
    if (response.status >= 300 && response.status < 400 && !response.header("location").empty()) {
      if (hops >= kMaxRedirects) throw HubError(url + ": too many redirects");
      url = resolve_location(url, response.header("location"));  // headers_for drops the token off the Hub
      continue;
    }
    api.check_status(response, url, repo, meta.file);
    break;
  }
  const uint64_t got = size_on_disk(partial);
  if (meta.size > 0 && got < meta.size) {
    throw TransientError(url + ": the transfer ended after " + std::to_string(got) + " of " +
                         std::to_string(meta.size) + " bytes");
  }
  if (meta.size > 0 && got > meta.size) {
    fs::remove(partial);
    throw HubError(url + ": " + std::to_string(got) + " bytes arrived for " + meta.file + ", the Hub announced " +
                   std::to_string(meta.size) + "; the download was deleted");
  }
}

}  // namespace

void download_blob(const HubApi& api, const RepoCache& cache, const std::string& repo, const FileMetadata& meta) {
  const fs::path blob = cache.blob(meta.etag);
  std::error_code ec;
  if (fs::is_regular_file(blob, ec)) return;
  fs::create_directories(blob.parent_path(), ec);
  if (ec) throw HubError(blob.parent_path().string() + ": cannot create the folder: " + ec.message());
  const auto lock = cache.lock_blob(meta.etag);
  if (fs::is_regular_file(blob, ec)) return;  // another process finished it while we waited
  const fs::path partial = cache.incomplete(meta.etag);
  if (size_on_disk(partial) > 0 && api.config().progress) {
    std::fprintf(stderr, "vkmind: resuming %s from %s\n", meta.file.c_str(), format_bytes(size_on_disk(partial)).c_str());
  }
  api.with_retries("downloading " + meta.file + " from " + meta.download_url,
                   [&] { fetch_rest(api, repo, meta, partial); });
  if (meta.lfs && meta.etag.size() == 64) {
    const std::string actual = sha256_file(partial.string());
    if (actual != meta.etag) {
      fs::remove(partial, ec);
      throw HubError(meta.download_url + ": " + meta.file + " is corrupt: its sha256 is " + actual +
                     ", the Hub says " + meta.etag + "; the download was deleted (pull again)");
    }
  }
  fs::rename(partial, blob, ec);
  if (ec) throw HubError(blob.string() + ": cannot be put in place: " + ec.message());
}

}  // namespace vkmind::hub
