// Weight tiles kept on disk for CPU devices (ops/weight_view.h).
//
// Repacking writes every float weight byte into fresh anonymous memory, and
// the kernel zeroes each fresh page before the copy lands: on the project's
// 2-vCPU VM, 122 MiB of minimind-3-size F16 tiles cost 40-250 ms of page
// faults, most of a short run's start-up. A later load maps the cached file
// instead: page-cache pages, nothing copied or zeroed, resident once, as
// llama.cpp's CPU backend reads its GGUF.
//
// One file per model, tiles-<hash>.bin, named by its files' device, inode,
// size and modification time, in $VKMIND_TILE_CACHE (a folder; "off": no
// cache) or the vkmind cache folder's tiles/. A text header lists the model's
// files and every matrix (its tensors, type, shape, tiling, a fingerprint of
// sampled source bytes, and where its tiles lie, page-aligned). A matrix is
// served only when all of that matches: a model file rewritten in place, or a
// reused inode, is not served stale. The folder keeps at most
// $VKMIND_TILE_CACHE_MAX_MIB (default 8192) MiB, least recently used out first.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "model/tensor_types.h"
#include "runtime/vk/host_import.h"
#include "runtime/vk/memory.h"

namespace vkmind {

class Model;
class MappedFile;

// What a cached matrix must match.
struct TileEntry {
  std::string names;  // its tensors, space-separated, in row order
  TensorType type = TensorType::F32;
  uint32_t rows = 0, cols = 0, tile_rows = 0, tile_cols = 0;
  uint64_t bytes = 0;
  uint64_t fingerprint = 0;  // tensor_fingerprint of its tensors
  bool operator==(const TileEntry&) const = default;
};

// A hash of the tensors' sizes and five 64-byte runs of each, first and last
// included: a few pages read, not the whole model.
uint64_t tensor_fingerprint(std::span<const std::span<const uint8_t>> tensors);

class TileCache {
 public:
  // The cache of `model`'s tiles for `device`, or nullptr when there is none
  // to use: `setting` "off" ("": $VKMIND_TILE_CACHE, else the cache folder),
  // no cache folder, or a device that cannot read host memory in place.
  static std::unique_ptr<TileCache> open(vk::Device& device, const Model& model, const std::string& setting);
  ~TileCache();

  // The cached tiles of `entry`, as the device reads them in place.
  std::optional<vk::BufferSlice> find(const TileEntry& entry);
  // A matrix that find() did not have, tiled into `tiles` (mapped memory
  // that holds its tiles by the time finish() runs).
  void add(const TileEntry& entry, const uint8_t* tiles);
  // After the copies: rewrites the file when some matrix was missing (every
  // matrix of this load, cached or new; on a thread of its own, finished by
  // the destructor), else pages the cached tiles in ahead of the first step.
  // Never throws; problems are warnings.
  void finish() noexcept;

  const std::string& path() const { return path_; }
  // For the load report: "read from PATH", "being written to PATH", "not cached: ...".
  const std::string& outcome() const { return outcome_; }

 private:
  TileCache(vk::Device& device, std::string path, std::string sources, uint64_t max_bytes);
  void load_existing();
  void plan_write();
  void write(const std::string& header, uint64_t header_bytes, uint64_t end) const;
  void make_room(uint64_t bytes) const;

  struct Stored {
    TileEntry entry;
    uint64_t offset = 0;
  };
  struct Matrix {
    TileEntry entry;
    const uint8_t* tiles;
  };
  vk::Device& device_;
  std::string path_;
  std::string sources_;  // the header's "source" lines this model must match
  uint64_t max_bytes_;
  std::unique_ptr<MappedFile> file_;
  std::unique_ptr<vk::ImportedHostBuffer> buffer_;
  std::vector<Stored> stored_;
  std::vector<Matrix> matrices_;  // this load's, in order
  bool missing_ = false;
  std::string outcome_;
  std::jthread writer_;  // last: joined before the members it reads go
};

}  // namespace vkmind
