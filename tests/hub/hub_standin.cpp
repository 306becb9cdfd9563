#include "tests/hub/hub_standin.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "model/hub/sha256.h"

namespace vkmind::test {

std::string sha256_hex(const std::string& bytes) {
  hub::Sha256 hash;
  hash.update(bytes.data(), bytes.size());
  return hash.hex_digest();
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot be read");
  return {std::istreambuf_iterator<char>(in), {}};
}

namespace {

bool is_lfs_name(const std::string& name) {
  auto ends = [&](const std::string& tail) {
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return ends(".safetensors") || ends(".gguf");
}

// The Hub's ETag of a small file is its git blob id; any stable hex stands in.
std::string small_file_etag(const std::string& bytes) { return sha256_hex("blob " + bytes).substr(0, 40); }

// The Hub's answer for a repository it does not have (or will not show).
void repo_not_found(httplib::Response& res) {
  res.status = 404;
  res.set_header("X-Error-Code", "RepoNotFound");
  res.set_content(R"({"error":"Repository not found"})", "application/json");
}

}  // namespace

HubStandIn::HubStandIn() {
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
    std::lock_guard lock(mutex_);
    log_.push_back({req.method, req.path, req.get_header_value("Authorization"), req.get_header_value("Range")});
    return httplib::Server::HandlerResponse::Unhandled;
  });

  server_.Get(R"(/api/models/([^/]+)/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
    if (refuse(req, res, repo)) return;
    std::lock_guard lock(mutex_);
    auto it = repos_.find(repo);
    if (it == repos_.end()) return repo_not_found(res);
    nlohmann::json listing = {{"id", repo}, {"sha", it->second.commit}, {"siblings", nlohmann::json::array()}};
    for (const auto& [name, file] : it->second.files) listing["siblings"].push_back({{"rfilename", name}});
    res.set_content(listing.dump(), "application/json");
  });

  server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
    const std::string revision = req.matches[3].str(), name = req.matches[4].str();
    if (refuse(req, res, repo)) return;
    std::lock_guard lock(mutex_);
    auto it = repos_.find(repo);
    if (it == repos_.end()) return repo_not_found(res);
    if (revision != "main" && revision != it->second.commit) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      return;
    }
    auto file = it->second.files.find(name);
    if (file == it->second.files.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      res.set_header("X-Error-Message", "Entry not found");
      return;
    }
    res.set_header("X-Repo-Commit", it->second.commit);
    if (file->second.lfs) {
      const std::string sha = sha256_hex(file->second.bytes);
      res.status = 302;
      res.set_header("Location", "http://localhost:" + std::to_string(port_) + "/cdn/" + sha);
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(file->second.bytes.size()));
      res.set_header("ETag", "\"" + small_file_etag(file->second.bytes) + "\"");
      return;
    }
    res.set_header("ETag", "\"" + small_file_etag(file->second.bytes) + "\"");
    res.set_content(file->second.bytes, "application/octet-stream");
  });

  server_.Get(R"(/cdn/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex_);
    std::string name;
    const StandInFile* file = find_lfs_blob(req.matches[1].str(), &name);
    if (!file) {
      res.status = 404;
      return;
    }
    std::string bytes = file->bytes;
    if (std::find(corrupt_.begin(), corrupt_.end(), name) != corrupt_.end()) {
      for (size_t i = 0; i < bytes.size(); i += 997) bytes[i] = char(bytes[i] ^ 0x5A);
    }
    size_t cut = bytes.size();
    if (auto c = cuts_.find(name); c != cuts_.end()) {
      cut = c->second;
      cuts_.erase(c);
    }
    auto shared = std::make_shared<std::string>(std::move(bytes));
    res.set_content_provider(shared->size(), "application/octet-stream",
                             [shared, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (offset >= cut) return false;  // the connection drops here
                               const size_t n = std::min(length, cut - offset);
                               sink.write(shared->data() + offset, n);
                               return true;
                             });
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("hub stand-in: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() does nothing before the accept loop runs: wait for it, so the destructor cannot hang.
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HubStandIn::~HubStandIn() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

void HubStandIn::add_repo(const std::string& name, StandInRepo repo) {
  std::lock_guard lock(mutex_);
  repos_[name] = std::move(repo);
}

StandInRepo HubStandIn::repo_from_folder(const std::filesystem::path& folder, const std::string& commit) {
  std::map<std::string, std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file()) files[entry.path().filename().string()] = entry.path();
  }
  return repo_from_files(files, commit);
}

StandInRepo HubStandIn::repo_from_files(const std::map<std::string, std::filesystem::path>& files,
                                        const std::string& commit) {
  StandInRepo repo;
  repo.commit = commit;
  for (const auto& [name, path] : files) repo.files[name] = {read_file_bytes(path), is_lfs_name(name)};
  return repo;
}

void HubStandIn::cut_once(const std::string& file, size_t bytes) {
  std::lock_guard lock(mutex_);
  cuts_[file] = bytes;
}

void HubStandIn::corrupt(const std::string& file) {
  std::lock_guard lock(mutex_);
  corrupt_.push_back(file);
}

void HubStandIn::fail(const std::string& prefix, int status, int times) {
  std::lock_guard lock(mutex_);
  faults_.push_back({prefix, status, times});
}

void HubStandIn::gate(const std::string& repo, const std::string& token) {
  std::lock_guard lock(mutex_);
  gates_[repo] = token;
}

bool HubStandIn::refuse(const httplib::Request& req, httplib::Response& res, const std::string& repo) {
  std::lock_guard lock(mutex_);
  for (Fault& f : faults_) {
    if (f.times == 0 || req.path.rfind(f.prefix, 0) != 0) continue;
    if (f.times > 0) --f.times;
    res.status = f.status;
    res.set_content("stand-in fault", "text/plain");
    return true;
  }
  if (auto g = gates_.find(repo); g != gates_.end()) {
    const std::string auth = req.get_header_value("Authorization");
    if (auth.empty()) {
      res.status = 401;
      res.set_header("X-Error-Code", "GatedRepo");
      return true;
    }
    if (auth != "Bearer " + g->second) {
      res.status = 403;
      res.set_header("X-Error-Code", "GatedRepo");
      return true;
    }
  }
  return false;
}

const StandInFile* HubStandIn::find_lfs_blob(const std::string& sha, std::string* name) const {
  for (const auto& [repo_name, repo] : repos_) {
    for (const auto& [file_name, file] : repo.files) {
      if (file.lfs && sha256_hex(file.bytes) == sha) {
        *name = file_name;
        return &file;
      }
    }
  }
  return nullptr;
}

std::vector<LoggedRequest> HubStandIn::requests() const {
  std::lock_guard lock(mutex_);
  return log_;
}

size_t HubStandIn::request_count() const {
  std::lock_guard lock(mutex_);
  return log_.size();
}

void HubStandIn::clear_log() {
  std::lock_guard lock(mutex_);
  log_.clear();
}

}  // namespace vkmind::test
