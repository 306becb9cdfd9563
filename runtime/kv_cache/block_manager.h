// Host side of the paged KV cache: which physical blocks each sequence owns.
// Blocks are reference counted so sequences can share a prefix (fork) and
// copy a shared block before writing into it (copy-on-write).
//
// With the prefix cache on, full blocks are also addressed by content
// (prefix_index.h): a new sequence takes the leading blocks it shares with
// earlier ones (match_prefix), and blocks no sequence holds any more keep
// their contents until the pool needs them (least recently used first).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "runtime/kv_cache/prefix_index.h"

namespace vkmind {

using SeqId = uint32_t;

struct KvStats {
  uint32_t blocks_total = 0;
  uint32_t blocks_used = 0;      // held by a sequence
  uint32_t blocks_cached = 0;    // held by none, contents kept for the prefix cache
  uint64_t prefix_lookup_tokens = 0, prefix_hit_tokens = 0, prefix_evictions = 0;
  uint64_t tokens_stored = 0;  // summed over sequences (shared blocks count per sequence)
  double utilisation = 0;      // tokens stored / (blocks used * block size)
};

// A block to duplicate on the device before a sequence writes into it.
struct BlockCopy {
  uint32_t from;
  uint32_t to;
};

class BlockManager {
 public:
  // `sequence_blocks`: block-table room reserved for each new sequence, so
  // that one up to that size grows without allocating (decode steps).
  BlockManager(uint32_t num_blocks, uint32_t block_size, bool prefix_cache = false, uint32_t sequence_blocks = 0);

  uint32_t block_size() const { return block_size_; }
  // Blocks a sequence can take: free ones and cached ones nobody holds.
  uint32_t free_blocks() const { return uint32_t(free_.size()) + (index_ ? index_->parked_count() : 0); }
  bool prefix_cache() const { return index_.has_value(); }
  uint32_t total_blocks() const { return num_blocks_; }
  // Blocks a sequence of `tokens` tokens needs in all.
  uint32_t blocks_for(uint32_t tokens) const { return (tokens + block_size_ - 1) / block_size_; }

  bool has_sequence(SeqId seq) const { return seqs_.count(seq) != 0; }
  uint32_t length(SeqId seq) const;  // tokens the sequence holds
  const std::vector<uint32_t>& block_table(SeqId seq) const;

  // Grows `seq` (created if new) to hold `new_length` tokens. Returns false,
  // changing nothing, when the free blocks do not suffice. `copies` receives
  // the copy-on-write duplications the device must perform first.
  bool grow(SeqId seq, uint32_t new_length, std::vector<BlockCopy>* copies = nullptr);
  // Shortens `seq` to `new_length` tokens, freeing whole blocks past it, and
  // returns its length after: less than asked when the block that would be
  // written next is shared (it is dropped too; its tokens are recomputed).
  uint32_t truncate(SeqId seq, uint32_t new_length);

  // Prefix cache. A new (or empty) sequence takes every leading full block of
  // `tokens` that is cached, leaving at least one token to compute, and
  // returns how many tokens it got (a multiple of the block size; 0 when off).
  uint32_t match_prefix(SeqId seq, std::span<const int32_t> tokens);
  // Adds the sequence's full blocks among tokens[0, computed) to the cache.
  void cache_blocks(SeqId seq, std::span<const int32_t> tokens, uint32_t computed);
  // `child` shares all of `parent`'s blocks (prefix sharing).
  void fork(SeqId parent, SeqId child);
  void release(SeqId seq);

  // Physical slot (block * block_size + offset) of a token position.
  uint32_t slot(SeqId seq, uint32_t position) const;

  KvStats stats() const;

 private:
  struct Sequence {
    std::vector<uint32_t> blocks;
    uint32_t length = 0;
    std::vector<uint64_t> hashes;  // content hash chain of its leading full blocks
  };
  uint32_t take_block();
  void drop_block(uint32_t block);
  const Sequence& get(SeqId seq) const;
  Sequence& open(SeqId seq);  // created (with its reserve) if new

  uint32_t num_blocks_;
  uint32_t block_size_;
  uint32_t sequence_blocks_;
  std::vector<uint32_t> free_;     // a stack: recently freed blocks are reused first
  std::vector<uint32_t> refcount_;
  std::map<SeqId, Sequence> seqs_;
  std::optional<PrefixIndex> index_;
  uint64_t lookup_tokens_ = 0, hit_tokens_ = 0;
};

}  // namespace vkmind
