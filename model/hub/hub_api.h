// The two Hub requests a pull makes: the repository listing
// (GET /api/models/ORG/REPO) and a file's metadata (HEAD
// /ORG/REPO/resolve/REV/FILE, whose 302 to the CDN carries X-Repo-Commit,
// X-Linked-Etag and X-Linked-Size for LFS files), with the token, retries
// and the Hub's statuses turned into messages a user can act on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/hub/hub_config.h"
#include "model/hub/http.h"

namespace vkmind::hub {

struct RepoListing {
  std::string commit;              // "sha"
  std::vector<std::string> files;  // siblings[].rfilename
};

struct FileMetadata {
  std::string file;          // path in the repository
  std::string commit;        // X-Repo-Commit
  std::string etag;          // X-Linked-Etag (sha256 of an LFS file) or ETag, unquoted
  uint64_t size = 0;         // X-Linked-Size or Content-Length (0: unknown)
  bool lfs = false;          // etag is the sha256 of the content
  std::string download_url;  // the CDN location of a redirect, else the resolve URL
};

class HubApi {
 public:
  explicit HubApi(const HubConfig& config) : config_(config) {}

  RepoListing list_repo(const std::string& repo) const;
  FileMetadata file_metadata(const std::string& repo, const std::string& revision, const std::string& file) const;

  // The request headers for `url`: the token only on the Hub's own host, as
  // huggingface_hub does, so a redirect to a CDN never sees it.
  std::vector<std::string> headers_for(const std::string& url) const;
  // Runs `attempt`, retrying TransientError with back-off; `what` names the
  // operation in the retry notes and the final message.
  void with_retries(const std::string& what, const std::function<void()>& attempt) const;
  // Throws the message for a failed status (401, 403, 404, 5xx, ...) of a
  // request about `repo` (and `file`, when there is one).
  void check_status(const HttpResponse& response, const std::string& url, const std::string& repo,
                    const std::string& file = "") const;
  HttpRequest request(const std::string& url) const;

  const HubConfig& config() const { return config_; }

 private:
  const HubConfig& config_;
};

}  // namespace vkmind::hub
