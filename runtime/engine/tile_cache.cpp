#include "runtime/engine/tile_cache.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "model/mapped_file.h"
#include "model/model_desc.h"
#include "runtime/vk/cache_folder.h"
#include "runtime/vk/device.h"

namespace vkmind {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMagic = "vkmind tiles 1";
constexpr uint64_t kPage = 4096;
// Texel views round a range up to whole 16-byte texels (ImportedHostBuffer::slice).
constexpr uint64_t kSlack = 16;
constexpr uint64_t kDefaultMaxMiB = 8192;

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(const void* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<const uint8_t*>(p)[i]) * 1099511628211ull;
  }
};

void warn(const std::string& path, const std::string& what) {
  std::fprintf(stderr, "vkmind: warning: tile cache %s: %s\n", path.c_str(), what.c_str());
}

std::string errno_text() { return std::strerror(errno); }

// The "source" lines: each model file's identity. Empty when one cannot be stat'ed.
std::string source_lines(const Model& model) {
  std::string lines;
  for (const std::string& p : model.file_paths()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return "";
    char line[160];
    std::snprintf(line, sizeof line, "source %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 ".%09ld ", uint64_t(st.st_dev),
                  uint64_t(st.st_ino), uint64_t(st.st_size), int64_t(st.st_mtim.tv_sec), long(st.st_mtim.tv_nsec));
    lines += line + fs::absolute(p).string() + "\n";
  }
  return lines;
}

std::string entry_line(const TileEntry& e, uint64_t offset) {
  char head[200];
  std::snprintf(head, sizeof head, "entry %" PRIu64 " %" PRIu64 " %u %u %u %u %u %016" PRIx64 " ", offset, e.bytes,
                unsigned(e.type), e.rows, e.cols, e.tile_rows, e.tile_cols, e.fingerprint);
  return head + e.names + "\n";
}

uint64_t max_cache_bytes() {
  uint64_t mib = kDefaultMaxMiB;
  if (const char* env = std::getenv("VKMIND_TILE_CACHE_MAX_MIB"); env && *env) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (end && *end == '\0') mib = v;
  }
  return mib << 20;
}

// Writes all of `bytes` at `offset`, through short writes and interrupts.
bool write_at(int fd, const uint8_t* bytes, uint64_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, bytes, std::min<uint64_t>(n, uint64_t(1) << 30), off_t(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    bytes += w;
    n -= uint64_t(w);
    offset += uint64_t(w);
  }
  return true;
}

}  // namespace

uint64_t tensor_fingerprint(std::span<const std::span<const uint8_t>> tensors) {
  Fnv f;
  for (std::span<const uint8_t> t : tensors) {
    const uint64_t size = t.size();
    f.add(&size, sizeof size);
    constexpr uint64_t kRun = 64, kRuns = 5;
    if (size <= kRun * kRuns) {
      f.add(t.data(), t.size());
      continue;
    }
    for (uint64_t i = 0; i < kRuns; ++i) f.add(t.data() + i * (size - kRun) / (kRuns - 1), kRun);
  }
  return f.h;
}

std::unique_ptr<TileCache> TileCache::open(vk::Device& device, const Model& model, const std::string& setting) {
  std::string folder = setting;
  if (folder.empty()) {
    const char* env = std::getenv("VKMIND_TILE_CACHE");
    folder = env && *env ? env : "";
  }
  if (folder == "off") return nullptr;
  if (folder.empty()) {
    const fs::path base = vk::vkmind_cache_folder();
    if (base.empty()) return nullptr;
    folder = (base / "tiles").string();
  }
  // Tiles are read where they lie in the file's mapping, or not at all.
  if (!device.report().host_import_alignment || kPage % device.report().host_import_alignment != 0) return nullptr;
  std::string sources = source_lines(model);
  if (sources.empty()) return nullptr;
  Fnv name;
  name.add(kMagic, std::strlen(kMagic));
  name.add(sources.data(), sources.size());
  char file[40];
  std::snprintf(file, sizeof file, "tiles-%016" PRIx64 ".bin", name.h);
  std::unique_ptr<TileCache> cache(
      new TileCache(device, (fs::path(folder) / file).string(), std::move(sources), max_cache_bytes()));
  cache->load_existing();
  return cache;
}

TileCache::TileCache(vk::Device& device, std::string path, std::string sources, uint64_t max_bytes)
    : device_(device), path_(std::move(path)), sources_(std::move(sources)), max_bytes_(max_bytes) {}

TileCache::~TileCache() = default;

void TileCache::load_existing() {
  std::error_code ec;
  if (!fs::exists(path_, ec)) return;
  std::unique_ptr<MappedFile> file;
  try {
    file = std::make_unique<MappedFile>(path_);
  } catch (const std::exception& e) {
    warn(path_, std::string(e.what()) + "; it will be rewritten");
    return;
  }
  const std::span<const uint8_t> bytes = file->bytes();
  auto corrupt = [&](const std::string& why) { warn(path_, why + "; it will be rewritten"); };
  // The header: "vkmind tiles 1\nheader N\n..." within its first N bytes.
  const std::string first(reinterpret_cast<const char*>(bytes.data()), std::min<size_t>(bytes.size(), 256));
  uint64_t header_bytes = 0;
  if (first.rfind(std::string(kMagic) + "\nheader ", 0) != 0 ||
      std::sscanf(first.c_str() + std::strlen(kMagic) + 8, "%" SCNu64, &header_bytes) != 1 ||
      header_bytes % kPage != 0 || header_bytes == 0 || header_bytes > bytes.size() || bytes.size() % kPage != 0) {
    return corrupt("not a vkmind tile cache file, or cut short");
  }
  std::istringstream header(std::string(reinterpret_cast<const char*>(bytes.data()), header_bytes));
  std::string line, sources;
  std::vector<Stored> stored;
  bool ended = false;
  std::getline(header, line);  // the magic
  std::getline(header, line);  // header N
  while (!ended && std::getline(header, line)) {
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "source") {
      sources += line + "\n";
    } else if (kind == "entry") {
      Stored s;
      unsigned type = 0;
      fields >> s.offset >> s.entry.bytes >> type >> s.entry.rows >> s.entry.cols >> s.entry.tile_rows >>
          s.entry.tile_cols >> std::hex >> s.entry.fingerprint >> std::dec >> std::ws;
      std::getline(fields, s.entry.names);
      s.entry.type = TensorType(type);
      if (!fields.eof() || s.offset % kPage != 0 || s.offset < header_bytes ||
          s.entry.bytes > bytes.size() || s.offset > bytes.size() - s.entry.bytes ||
          bytes.size() - s.entry.bytes - s.offset < kSlack) {
        return corrupt("entry '" + line + "' is malformed or lies past the end");
      }
      stored.push_back(std::move(s));
    } else if (kind == "end") {
      ended = true;
    } else {
      return corrupt("unexpected header line '" + line.substr(0, 80) + "'");
    }
  }
  if (!ended) return corrupt("its header has no end");
  if (sources != sources_) return;  // another model's that happens to share the name: rewritten below
  buffer_ = vk::ImportedHostBuffer::import(device_, bytes);
  if (!buffer_) return;
  file_ = std::move(file);
  stored_ = std::move(stored);
}

std::optional<vk::BufferSlice> TileCache::find(const TileEntry& entry) {
  for (const Stored& s : stored_) {
    if (s.entry == entry) {
      const uint8_t* tiles = file_->bytes().data() + s.offset;
      if (auto slice = buffer_->slice(tiles, entry.bytes, kSlack)) {
        matrices_.push_back({entry, tiles});
        return slice;
      }
    }
  }
  missing_ = true;
  return std::nullopt;
}

void TileCache::add(const TileEntry& entry, const uint8_t* tiles) { matrices_.push_back({entry, tiles}); }

void TileCache::finish() noexcept {
  try {
    if (matrices_.empty()) return;
    if (!missing_) {
      // The first step would otherwise fault the tiles in page by page.
      populate_mapped_pages(file_->bytes());
      ::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0);  // most recently used
      outcome_ = "read from " + path_;
      return;
    }
    plan_write();
  } catch (const std::exception& e) {
    warn(path_, e.what());
  }
}

void TileCache::plan_write() {
  // Layout: the header's pages, then each matrix on a page boundary.
  std::string entries;
  uint64_t header_bytes = kPage, end = 0;
  for (;;) {  // until the header's size, which moves the offsets, settles
    entries.clear();
    end = header_bytes;
    for (const Matrix& m : matrices_) {
      entries += entry_line(m.entry, end);
      end += round_up(m.entry.bytes + kSlack, kPage);
    }
    const std::string head = std::string(kMagic) + "\nheader " + std::to_string(header_bytes) + "\n";
    const uint64_t needed = round_up(head.size() + sources_.size() + entries.size() + 4, kPage);
    if (needed <= header_bytes) break;
    header_bytes = needed;
  }
  const uint64_t max_alloc = device_.report().max_memory_allocation_size;
  if (end > max_bytes_ || (max_alloc && end > max_alloc)) {
    outcome_ = "not cached: " + std::to_string(end >> 20) + " MiB of tiles exceed the cache's " +
               std::to_string((end > max_bytes_ ? max_bytes_ : max_alloc) >> 20) + " MiB" +
               (end > max_bytes_ ? " (VKMIND_TILE_CACHE_MAX_MIB)" : " (the device's largest allocation)");
    return;
  }
  std::string header = std::string(kMagic) + "\nheader " + std::to_string(header_bytes) + "\n" + sources_ + entries + "end\n";
  header.resize(header_bytes, '\n');
  outcome_ = "being written to " + path_;
  // Off the load's path: the first load of a 1.1 GiB model took 6.1 s with
  // the write in line, 0.4-2.2 s without it. Joined by the destructor, while
  // the tiles it reads are still mapped.
  writer_ = std::jthread([this, header = std::move(header), header_bytes, end] {
#ifdef __linux__
    ::setpriority(PRIO_PROCESS, pid_t(::syscall(SYS_gettid)), 10);  // behind generation, on this thread only
#endif
    try {
      write(header, header_bytes, end);
    } catch (const std::exception& e) {
      warn(path_, e.what());
    }
  });
}

void TileCache::write(const std::string& header, uint64_t header_bytes, uint64_t end) const {
  std::error_code ec;
  fs::create_directories(fs::path(path_).parent_path(), ec);
  make_room(end);
  const std::string tmp = path_ + ".tmp" + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return warn(path_, "cannot be written: " + errno_text() + " (tiles are repacked at every load)");
  bool ok = write_at(fd, reinterpret_cast<const uint8_t*>(header.data()), header.size(), 0);
  uint64_t offset = header_bytes;
  for (const Matrix& m : matrices_) {
    if (!ok) break;
    ok = write_at(fd, m.tiles, m.entry.bytes, offset);
    offset += round_up(m.entry.bytes + kSlack, kPage);
  }
  ok = ok && ::ftruncate(fd, off_t(end)) == 0;
  std::string why = ok ? "" : errno_text();
  if (::close(fd) != 0 && ok) {
    ok = false;
    why = errno_text();
  }
  if (ok) {
    fs::rename(tmp, path_, ec);
    if (ec) why = ec.message();
  }
  if (!why.empty()) {
    fs::remove(tmp, ec);
    return warn(path_, "cannot be written: " + why + " (tiles are repacked at every load)");
  }
}

// Deletes the least recently used tile files until `bytes` more fit.
void TileCache::make_room(uint64_t bytes) const {
  struct Old {
    fs::path path;
    fs::file_time_type used;
    uint64_t size;
  };
  std::vector<Old> files;
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(path_).parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("tiles-", 0) != 0 || e.path().extension() != ".bin" || e.path() == fs::path(path_)) continue;
    std::error_code stat_ec;
    const uint64_t size = e.file_size(stat_ec);
    const auto used = e.last_write_time(stat_ec);
    if (stat_ec) continue;
    files.push_back({e.path(), used, size});
    total += size;
  }
  std::sort(files.begin(), files.end(), [](const Old& a, const Old& b) { return a.used < b.used; });
  for (const Old& f : files) {
    if (total + bytes <= max_bytes_) break;
    if (fs::remove(f.path, ec)) total -= f.size;
  }
}

}  // namespace vkmind
