// The prefix cache's index: full KV blocks addressed by their content (a hash
// chain over the block's token ids and everything before it), and the
// unreferenced ones kept in least-recently-used order until the pool needs
// them. Lookups compare the stored tokens too, so a hash collision can never
// hand a sequence someone else's keys and values. Nothing is allocated after
// construction: the hash table (open addressing, linear probing) has room for
// every block of the pool at half load.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vkmind {

class PrefixIndex {
 public:
  PrefixIndex(uint32_t num_blocks, uint32_t block_size);

  // Hash of a full block given the hash of the blocks before it (0: none).
  static uint64_t chain(uint64_t previous, std::span<const int32_t> block_tokens);

  // The cached block holding exactly these tokens after `previous`, if any.
  std::optional<uint32_t> find(uint64_t hash, std::span<const int32_t> block_tokens) const;
  // Registers `block` (full, its tokens final); false when that content is
  // already cached in another block (this one stays anonymous).
  bool insert(uint32_t block, uint64_t hash, std::span<const int32_t> block_tokens);
  bool cached(uint32_t block) const { return hash_[block] != 0; }
  // Forgets a block's content (it is about to be overwritten).
  void forget(uint32_t block);

  // Unreferenced cached blocks, oldest use first.
  void park(uint32_t block);    // its last reference went
  void unpark(uint32_t block);  // referenced again
  bool parked(uint32_t block) const { return prev_[block] != kNone; }
  // Takes the least recently used parked block out of the cache; nullopt if none.
  std::optional<uint32_t> evict();
  uint32_t parked_count() const { return parked_; }
  uint32_t cached_count() const { return cached_; }
  uint64_t evictions() const { return evictions_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  size_t slot_of(uint64_t hash) const;  // where a lookup of `hash` stops: its block, or an empty slot
  void erase_slot(size_t slot);

  uint32_t block_size_;
  std::vector<uint32_t> table_;  // block ids by hash_[block], kNone = empty; size a power of two
  size_t mask_;
  uint32_t cached_ = 0;
  std::vector<uint64_t> hash_;   // per block, 0 = not cached
  std::vector<int32_t> tokens_;  // per block, block_size ids
  // Intrusive LRU list of parked blocks; sentinel index = num_blocks.
  std::vector<uint32_t> prev_, next_;
  uint32_t sentinel_;
  uint32_t parked_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace vkmind
