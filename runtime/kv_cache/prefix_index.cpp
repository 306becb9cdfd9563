#include "runtime/kv_cache/prefix_index.h"

#include <algorithm>

namespace vkmind {

namespace {
size_t table_size(uint32_t num_blocks) {
  size_t n = 2;
  while (n < 2 * size_t(num_blocks)) n *= 2;
  return n;
}
}  // namespace

PrefixIndex::PrefixIndex(uint32_t num_blocks, uint32_t block_size)
    : block_size_(block_size),
      table_(table_size(num_blocks), kNone),
      mask_(table_.size() - 1),
      hash_(num_blocks, 0),
      tokens_(size_t(num_blocks) * block_size, 0),
      prev_(num_blocks + 1, kNone),
      next_(num_blocks + 1, kNone),
      sentinel_(num_blocks) {
  prev_[sentinel_] = next_[sentinel_] = sentinel_;
}

size_t PrefixIndex::slot_of(uint64_t hash) const {
  size_t i = hash & mask_;
  while (table_[i] != kNone && hash_[table_[i]] != hash) i = (i + 1) & mask_;
  return i;
}

// Linear probing's deletion without tombstones: later entries of the probe
// run move back into the hole unless their home slot lies after it.
void PrefixIndex::erase_slot(size_t hole) {
  for (size_t j = (hole + 1) & mask_; table_[j] != kNone; j = (j + 1) & mask_) {
    const size_t home = hash_[table_[j]] & mask_;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (stays) continue;
    table_[hole] = table_[j];
    hole = j;
  }
  table_[hole] = kNone;
}

uint64_t PrefixIndex::chain(uint64_t previous, std::span<const int32_t> block_tokens) {
  // splitmix64 over the previous hash and each id: fully specified, fast.
  auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  uint64_t h = mix(previous + 0x9e3779b97f4a7c15ull);
  for (int32_t t : block_tokens) h = mix(h ^ (uint64_t(uint32_t(t)) + 0x9e3779b97f4a7c15ull));
  return h ? h : 1;  // 0 means "not cached"
}

std::optional<uint32_t> PrefixIndex::find(uint64_t hash, std::span<const int32_t> block_tokens) const {
  const uint32_t block = table_[slot_of(hash)];
  if (block == kNone) return std::nullopt;
  const int32_t* stored = tokens_.data() + size_t(block) * block_size_;
  if (!std::equal(block_tokens.begin(), block_tokens.end(), stored)) return std::nullopt;
  return block;
}

bool PrefixIndex::insert(uint32_t block, uint64_t hash, std::span<const int32_t> block_tokens) {
  if (hash_[block] != 0) return false;
  const size_t slot = slot_of(hash);
  if (table_[slot] != kNone) return false;
  table_[slot] = block;
  hash_[block] = hash;
  ++cached_;
  std::copy(block_tokens.begin(), block_tokens.end(), tokens_.begin() + long(size_t(block) * block_size_));
  return true;
}

void PrefixIndex::forget(uint32_t block) {
  if (hash_[block] == 0) return;
  if (parked(block)) unpark(block);
  erase_slot(slot_of(hash_[block]));
  hash_[block] = 0;
  --cached_;
}

void PrefixIndex::park(uint32_t block) {
  const uint32_t last = prev_[sentinel_];
  prev_[block] = last;
  next_[block] = sentinel_;
  next_[last] = block;
  prev_[sentinel_] = block;
  ++parked_;
}

void PrefixIndex::unpark(uint32_t block) {
  if (!parked(block)) return;
  next_[prev_[block]] = next_[block];
  prev_[next_[block]] = prev_[block];
  prev_[block] = next_[block] = kNone;
  --parked_;
}

std::optional<uint32_t> PrefixIndex::evict() {
  const uint32_t oldest = next_[sentinel_];
  if (oldest == sentinel_) return std::nullopt;
  forget(oldest);
  ++evictions_;
  return oldest;
}

}  // namespace vkmind
