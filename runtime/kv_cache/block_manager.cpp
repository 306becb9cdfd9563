#include "runtime/kv_cache/block_manager.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace vkmind {

BlockManager::BlockManager(uint32_t num_blocks, uint32_t block_size, bool prefix_cache, uint32_t sequence_blocks)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      sequence_blocks_(std::min(sequence_blocks, num_blocks)),
      refcount_(num_blocks, 0) {
  if (block_size == 0) throw std::invalid_argument("KV block size must be positive");
  if (prefix_cache) index_.emplace(num_blocks, block_size);
  free_.reserve(num_blocks);
  for (uint32_t b = num_blocks; b-- > 0;) free_.push_back(b);  // block 0 is handed out first
}

BlockManager::Sequence& BlockManager::open(SeqId seq) {
  auto [it, created] = seqs_.try_emplace(seq);
  if (created) {
    it->second.blocks.reserve(sequence_blocks_);
    if (index_) it->second.hashes.reserve(sequence_blocks_);
  }
  return it->second;
}

const BlockManager::Sequence& BlockManager::get(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) throw std::out_of_range("KV cache: unknown sequence " + std::to_string(seq));
  return it->second;
}

uint32_t BlockManager::length(SeqId seq) const { return get(seq).length; }
const std::vector<uint32_t>& BlockManager::block_table(SeqId seq) const { return get(seq).blocks; }

uint32_t BlockManager::take_block() {
  uint32_t b;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else {
    b = *index_->evict();  // callers checked free_blocks(), which counts these
  }
  refcount_[b] = 1;
  return b;
}

void BlockManager::drop_block(uint32_t block) {
  if (--refcount_[block] != 0) return;
  if (index_ && index_->cached(block)) index_->park(block);
  else free_.push_back(block);
}

bool BlockManager::grow(SeqId seq, uint32_t new_length, std::vector<BlockCopy>* copies) {
  Sequence& s = open(seq);
  if (new_length <= s.length) return true;
  const uint32_t have = uint32_t(s.blocks.size());
  const uint32_t need = blocks_for(new_length);
  // The partly filled last block gets written: if shared, it must be copied.
  const bool copy_last = s.length % block_size_ != 0 && have > 0 && refcount_[s.blocks.back()] > 1;
  const uint32_t wanted = (need > have ? need - have : 0) + (copy_last ? 1 : 0);
  if (wanted > free_blocks()) {
    if (s.blocks.empty() && s.length == 0) seqs_.erase(seq);
    return false;
  }
  if (copy_last) {
    uint32_t fresh = take_block();
    if (copies) copies->push_back({s.blocks.back(), fresh});
    drop_block(s.blocks.back());
    s.blocks.back() = fresh;
  }
  while (s.blocks.size() < need) s.blocks.push_back(take_block());
  s.length = new_length;
  return true;
}

uint32_t BlockManager::truncate(SeqId seq, uint32_t new_length) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return 0;
  Sequence& s = it->second;
  if (new_length >= s.length) return s.length;
  uint32_t keep = blocks_for(new_length);
  // The block new tokens go into next: a cached one must not change under
  // its hash; a shared one cannot be written at all (no device copy here).
  if (new_length % block_size_ != 0) {
    const uint32_t b = s.blocks[keep - 1];
    if (refcount_[b] > 1) {
      --keep;
      new_length = keep * block_size_;
    } else if (index_) {
      index_->forget(b);
    }
  }
  while (s.blocks.size() > keep) {
    drop_block(s.blocks.back());
    s.blocks.pop_back();
  }
  s.length = new_length;
  if (s.hashes.size() > new_length / block_size_) s.hashes.resize(new_length / block_size_);
  return new_length;
}

uint32_t BlockManager::match_prefix(SeqId seq, std::span<const int32_t> tokens) {
  if (!index_ || tokens.empty() || (has_sequence(seq) && length(seq) != 0)) return 0;
  Sequence& s = open(seq);
  lookup_tokens_ += tokens.size();
  const size_t most = (tokens.size() - 1) / block_size_;  // one token is always computed
  uint64_t previous = 0;
  for (size_t i = 0; i < most; ++i) {
    const auto block_tokens = tokens.subspan(i * block_size_, block_size_);
    const uint64_t h = PrefixIndex::chain(previous, block_tokens);
    const auto b = index_->find(h, block_tokens);
    if (!b) break;
    if (refcount_[*b]++ == 0) index_->unpark(*b);
    s.blocks.push_back(*b);
    s.hashes.push_back(h);
    previous = h;
  }
  s.length = uint32_t(s.blocks.size()) * block_size_;
  hit_tokens_ += s.length;
  return s.length;
}

void BlockManager::cache_blocks(SeqId seq, std::span<const int32_t> tokens, uint32_t computed) {
  if (!index_) return;
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  Sequence& s = it->second;
  const size_t full = std::min<size_t>({computed, s.length, tokens.size()}) / block_size_;
  for (size_t i = s.hashes.size(); i < full; ++i) {
    const auto block_tokens = tokens.subspan(i * block_size_, block_size_);
    const uint64_t h = PrefixIndex::chain(s.hashes.empty() ? 0 : s.hashes.back(), block_tokens);
    index_->insert(s.blocks[i], h, block_tokens);  // a duplicate of a cached block stays anonymous
    s.hashes.push_back(h);
  }
}

void BlockManager::fork(SeqId parent, SeqId child) {
  const Sequence& p = get(parent);
  if (seqs_.count(child)) throw std::invalid_argument("KV cache: sequence " + std::to_string(child) + " exists");
  for (uint32_t b : p.blocks) ++refcount_[b];
  seqs_[child] = p;
}

void BlockManager::release(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  for (uint32_t b : it->second.blocks) drop_block(b);
  seqs_.erase(it);
}

uint32_t BlockManager::slot(SeqId seq, uint32_t position) const {
  const Sequence& s = get(seq);
  if (position >= s.blocks.size() * block_size_) {
    throw std::out_of_range("KV cache: position " + std::to_string(position) + " of sequence " +
                            std::to_string(seq) + " has no block");
  }
  return s.blocks[position / block_size_] * block_size_ + position % block_size_;
}

KvStats BlockManager::stats() const {
  KvStats st;
  st.blocks_total = num_blocks_;
  st.blocks_used = num_blocks_ - free_blocks();
  if (index_) {
    st.blocks_cached = index_->parked_count();
    st.prefix_evictions = index_->evictions();
  }
  st.prefix_lookup_tokens = lookup_tokens_;
  st.prefix_hit_tokens = hit_tokens_;
  for (const auto& [id, s] : seqs_) st.tokens_stored += s.length;
  st.utilisation = st.blocks_used ? double(st.tokens_stored) / (double(st.blocks_used) * block_size_) : 0.0;
  return st;
}

}  // namespace vkmind
