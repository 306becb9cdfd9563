#include "model/hub/hub_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>

#include "model/hub/hub_error.h"

namespace fs = std::filesystem;

namespace vkmind::hub {

namespace {

constexpr const char* kModelsPrefix = "models--";

void create_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw HubError(dir.string() + ": cannot create the folder: " + ec.message());
}

}  // namespace

std::string repo_folder_name(const std::string& repo) {
  const size_t slash = repo.find('/');
  if (slash == std::string::npos) return "";
  return kModelsPrefix + repo.substr(0, slash) + "--" + repo.substr(slash + 1);
}

std::string repo_from_folder_name(const std::string& folder) {
  if (folder.rfind(kModelsPrefix, 0) != 0) return "";
  std::string rest = folder.substr(std::char_traits<char>::length(kModelsPrefix));
  const size_t sep = rest.find("--");
  if (sep == std::string::npos) return "";
  return rest.substr(0, sep) + "/" + rest.substr(sep + 2);
}

FileLock::FileLock(const fs::path& path) {
  create_dirs(path.parent_path());
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw HubError(path.string() + ": cannot open the lock file");
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) {
      ::close(fd_);
      throw HubError(path.string() + ": cannot lock");
    }
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

RepoCache::RepoCache(const std::string& cache_root, const std::string& repo)
    : root_(cache_root), dir_(fs::path(cache_root) / repo_folder_name(repo)), folder_(repo_folder_name(repo)) {}

std::optional<std::string> RepoCache::read_ref(const std::string& ref) const {
  std::ifstream in(dir_ / "refs" / ref);
  if (!in) return std::nullopt;
  std::string commit{std::istreambuf_iterator<char>(in), {}};
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) commit.pop_back();
  if (commit.empty()) return std::nullopt;
  return commit;
}

void RepoCache::write_ref(const std::string& commit, const std::string& ref) const {
  const fs::path path = dir_ / "refs" / ref;
  create_dirs(path.parent_path());
  const fs::path temp = path.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << commit;  // no newline: huggingface_hub writes it so
    if (!out.flush()) throw HubError(temp.string() + ": cannot be written");
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) throw HubError(path.string() + ": cannot be written: " + ec.message());
}

void RepoCache::link(const std::string& commit, const std::string& file, const std::string& etag) const {
  const fs::path link_path = snapshot_file(commit, file);
  create_dirs(link_path.parent_path());
  // Lexical, as huggingface_hub's os.path.relpath: up out of FILE's folders and snapshots/COMMIT.
  fs::path target;
  const fs::path relative_file(file);
  for (auto it = relative_file.begin(); std::next(it) != relative_file.end(); ++it) target /= "..";
  target = target / ".." / ".." / "blobs" / etag;
  std::error_code ec;
  fs::remove(link_path, ec);
  fs::create_symlink(target, link_path, ec);
  if (ec) throw HubError(link_path.string() + ": cannot create the link to " + target.string() + ": " + ec.message());
}

bool RepoCache::has(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(snapshot_file(commit, file), ec);  // follows the link
}

std::unique_ptr<FileLock> RepoCache::lock_blob(const std::string& etag) const {
  return std::make_unique<FileLock>(root_ / ".locks" / folder_ / (etag + ".lock"));
}

std::vector<CachedSnapshot> list_cached(const std::string& cache_root) {
  std::vector<CachedSnapshot> snapshots;
  std::error_code ec;
  for (const auto& repo_dir : fs::directory_iterator(cache_root, ec)) {
    const std::string repo = repo_from_folder_name(repo_dir.path().filename().string());
    if (repo.empty() || !repo_dir.is_directory(ec)) continue;
    const RepoCache cache(cache_root, repo);
    std::vector<std::pair<std::string, std::string>> refs;  // name, commit
    for (const auto& ref : fs::directory_iterator(repo_dir.path() / "refs", ec)) {
      if (auto commit = cache.read_ref(ref.path().filename().string())) {
        refs.emplace_back(ref.path().filename().string(), *commit);
      }
    }
    for (const auto& snap : fs::directory_iterator(repo_dir.path() / "snapshots", ec)) {
      CachedSnapshot s;
      s.repo = repo;
      s.commit = snap.path().filename().string();
      s.path = snap.path();
      for (const auto& [name, commit] : refs) {
        if (commit == s.commit) s.refs.push_back(name);
      }
      for (const auto& f : fs::recursive_directory_iterator(snap.path(), ec)) {
        std::error_code file_ec;
        if (!f.is_regular_file(file_ec)) continue;  // a link into blobs/ counts when its blob is there
        s.files.push_back(f.path().lexically_relative(snap.path()).string());
        s.bytes += fs::file_size(f.path(), file_ec);
      }
      std::sort(s.files.begin(), s.files.end());
      snapshots.push_back(std::move(s));
    }
  }
  std::sort(snapshots.begin(), snapshots.end(), [](const CachedSnapshot& a, const CachedSnapshot& b) {
    return a.repo != b.repo ? a.repo < b.repo : a.commit < b.commit;
  });
  return snapshots;
}

}  // namespace vkmind::hub
