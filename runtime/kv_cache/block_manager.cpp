#include "runtime/kv_cache/block_manager.h"

#include <stdexcept>
#include <string>

namespace vkmind {

BlockManager::BlockManager(uint32_t num_blocks, uint32_t block_size)
    : num_blocks_(num_blocks), block_size_(block_size), refcount_(num_blocks, 0) {
  if (block_size == 0) throw std::invalid_argument("KV block size must be positive");
  free_.reserve(num_blocks);
  for (uint32_t b = num_blocks; b-- > 0;) free_.push_back(b);  // block 0 is handed out first
}

const BlockManager::Sequence& BlockManager::get(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) throw std::out_of_range("KV cache: unknown sequence " + std::to_string(seq));
  return it->second;
}

uint32_t BlockManager::length(SeqId seq) const { return get(seq).length; }
const std::vector<uint32_t>& BlockManager::block_table(SeqId seq) const { return get(seq).blocks; }

uint32_t BlockManager::take_block() {
  uint32_t b = free_.back();
  free_.pop_back();
  refcount_[b] = 1;
  return b;
}

void BlockManager::drop_block(uint32_t block) {
  if (--refcount_[block] == 0) free_.push_back(block);
}

bool BlockManager::grow(SeqId seq, uint32_t new_length, std::vector<BlockCopy>* copies) {
  Sequence& s = seqs_[seq];
  if (new_length <= s.length) return true;
  const uint32_t have = uint32_t(s.blocks.size());
  const uint32_t need = blocks_for(new_length);
  // The partly filled last block gets written: if shared, it must be copied.
  const bool copy_last = s.length % block_size_ != 0 && have > 0 && refcount_[s.blocks.back()] > 1;
  const uint32_t wanted = (need > have ? need - have : 0) + (copy_last ? 1 : 0);
  if (wanted > free_.size()) {
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

void BlockManager::truncate(SeqId seq, uint32_t new_length) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end() || new_length >= it->second.length) return;
  Sequence& s = it->second;
  const uint32_t keep = blocks_for(new_length);
  while (s.blocks.size() > keep) {
    drop_block(s.blocks.back());
    s.blocks.pop_back();
  }
  s.length = new_length;
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
  st.blocks_used = num_blocks_ - uint32_t(free_.size());
  for (const auto& [id, s] : seqs_) st.tokens_stored += s.length;
  st.utilisation = st.blocks_used ? double(st.tokens_stored) / (double(st.blocks_used) * block_size_) : 0.0;
  return st;
}

}  // namespace vkmind
