// The Hub's cache layout, as huggingface_hub writes and reads it:
//   ROOT/models--ORG--REPO/blobs/ETAG              the file contents
//   ROOT/models--ORG--REPO/snapshots/COMMIT/FILE   relative symlinks into blobs/
//   ROOT/models--ORG--REPO/refs/main               the commit "main" pointed at
//   ROOT/.locks/models--ORG--REPO/ETAG.lock        held while a blob is written
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vkmind::hub {

// "ORG/REPO" -> "models--ORG--REPO"; "" when the folder name is not a model repo's.
std::string repo_folder_name(const std::string& repo);
std::string repo_from_folder_name(const std::string& folder);

// An exclusive flock(2) on a lock file, as huggingface_hub's filelock takes
// it, so two downloads of one blob (two vkmind runs, or vkmind and Python)
// do not write the same .incomplete file.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

class RepoCache {
 public:
  RepoCache(const std::string& cache_root, const std::string& repo);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path blob(const std::string& etag) const { return dir_ / "blobs" / etag; }
  std::filesystem::path incomplete(const std::string& etag) const { return dir_ / "blobs" / (etag + ".incomplete"); }
  std::filesystem::path snapshot(const std::string& commit) const { return dir_ / "snapshots" / commit; }
  std::filesystem::path snapshot_file(const std::string& commit, const std::string& file) const {
    return snapshot(commit) / file;
  }

  std::optional<std::string> read_ref(const std::string& ref = "main") const;
  void write_ref(const std::string& commit, const std::string& ref = "main") const;  // atomic
  // snapshots/COMMIT/FILE -> ../../blobs/ETAG (one more "../" per sub-folder of FILE).
  void link(const std::string& commit, const std::string& file, const std::string& etag) const;
  // True when snapshots/COMMIT/FILE is there and so is what it points at.
  bool has(const std::string& commit, const std::string& file) const;
  std::unique_ptr<FileLock> lock_blob(const std::string& etag) const;

 private:
  std::filesystem::path root_, dir_;
  std::string folder_;
};

struct CachedSnapshot {
  std::string repo;                // "ORG/REPO"
  std::string commit;
  std::vector<std::string> refs;   // the refs that point at it ("main")
  std::vector<std::string> files;  // relative to the snapshot folder, sorted
  uint64_t bytes = 0;
  std::filesystem::path path;
};

// Every model snapshot under the cache root, by repo then commit.
std::vector<CachedSnapshot> list_cached(const std::string& cache_root);

}  // namespace vkmind::hub
