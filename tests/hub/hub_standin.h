// A local stand-in for the Hugging Face Hub, on 127.0.0.1 and a free port,
// with the Hub's URL layout:
//   GET  /api/models/ORG/REPO                 {"sha": COMMIT, "siblings": [{"rfilename": ...}]}
//   HEAD/GET /ORG/REPO/resolve/REV/FILE       small files: 200, ETag, X-Repo-Commit;
//                                             LFS files: 302 to http://localhost:PORT/cdn/SHA256
//                                             (another host name, as the CDN is), with
//                                             X-Linked-Etag, X-Linked-Size, X-Repo-Commit
//   GET  /cdn/SHA256                          the bytes, Range honoured
// and the faults the client must survive: a connection cut once, corrupt
// bytes, forced statuses, a gated repository. Every request is logged.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vkmind::test {

struct StandInFile {
  std::string bytes;
  bool lfs = false;
};

struct StandInRepo {
  std::string commit;
  std::map<std::string, StandInFile> files;
};

struct LoggedRequest {
  std::string method, path, authorization, range;
};

class HubStandIn {
 public:
  HubStandIn();
  ~HubStandIn();
  HubStandIn(const HubStandIn&) = delete;
  HubStandIn& operator=(const HubStandIn&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  void add_repo(const std::string& name, StandInRepo repo);
  // Every file of a folder; *.safetensors and *.gguf are LFS files, as on the Hub.
  static StandInRepo repo_from_folder(const std::filesystem::path& folder, const std::string& commit);
  // Files renamed on the way in: {name in the repo, path on disk}.
  static StandInRepo repo_from_files(const std::map<std::string, std::filesystem::path>& files, const std::string& commit);

  // The next download of `file` (any repo) stops after `bytes` bytes, once.
  void cut_once(const std::string& file, size_t bytes);
  // Downloads of `file` get the right length of wrong bytes.
  void corrupt(const std::string& file);
  // The next `times` requests whose path starts with `prefix` get `status` (-1: all of them).
  void fail(const std::string& prefix, int status, int times = -1);
  // `repo` answers 401 without `Authorization: Bearer TOKEN`, 403 with another token.
  void gate(const std::string& repo, const std::string& token);

  std::vector<LoggedRequest> requests() const;
  size_t request_count() const;
  void clear_log();

 private:
  struct Fault {
    std::string prefix;
    int status;
    int times;
  };
  const StandInFile* find_lfs_blob(const std::string& sha, std::string* name) const;
  bool refuse(const httplib::Request& req, httplib::Response& res, const std::string& repo);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, StandInRepo> repos_;
  std::map<std::string, size_t> cuts_;
  std::vector<std::string> corrupt_;
  std::vector<Fault> faults_;
  std::map<std::string, std::string> gates_;
  std::vector<LoggedRequest> log_;
};

// The sha256 of bytes, as the Hub names LFS files.
std::string sha256_hex(const std::string& bytes);
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace vkmind::test
