// The paged-KV block manager: allocation, slots, sharing and copy-on-write;
// the prefix index under hash collisions.
#include <catch2/catch.hpp>

#include "runtime/kv_cache/block_manager.h"
#include "runtime/kv_cache/prefix_index.h"

using namespace vkmind;

TEST_CASE("sequences grow block by block and map positions to slots", "[kv]") {
  BlockManager m(8, 16);
  REQUIRE(m.grow(1, 20));
  CHECK(m.block_table(1).size() == 2);
  CHECK(m.free_blocks() == 6);
  const auto& table = m.block_table(1);
  CHECK(m.slot(1, 0) == table[0] * 16);
  CHECK(m.slot(1, 17) == table[1] * 16 + 1);
  CHECK_THROWS(m.slot(1, 32));
  REQUIRE(m.grow(1, 32));
  CHECK(m.block_table(1).size() == 2);
  KvStats st = m.stats();
  CHECK(st.blocks_used == 2);
  CHECK(st.tokens_stored == 32);
  CHECK(st.utilisation == Approx(1.0));
}

TEST_CASE("growth that does not fit changes nothing", "[kv]") {
  BlockManager m(4, 8);
  REQUIRE(m.grow(1, 24));
  CHECK_FALSE(m.grow(2, 9));  // needs 2 blocks, 1 free
  CHECK_FALSE(m.has_sequence(2));
  CHECK(m.free_blocks() == 1);
  CHECK_FALSE(m.grow(1, 40));
  CHECK(m.length(1) == 24);
  m.release(1);
  CHECK(m.free_blocks() == 4);
}

TEST_CASE("forked sequences share blocks and copy the partial block on write", "[kv]") {
  BlockManager m(8, 4);
  REQUIRE(m.grow(1, 6));  // blocks A (full), B (half)
  m.fork(1, 2);
  CHECK(m.free_blocks() == 6);
  CHECK(m.block_table(2) == m.block_table(1));
  std::vector<BlockCopy> copies;
  REQUIRE(m.grow(2, 7, &copies));
  REQUIRE(copies.size() == 1);
  CHECK(copies[0].from == m.block_table(1)[1]);
  CHECK(copies[0].to == m.block_table(2)[1]);
  CHECK(m.block_table(2)[0] == m.block_table(1)[0]);  // the full block stays shared
  m.release(1);
  CHECK(m.free_blocks() == 8 - 2);  // A kept by seq 2, B freed, B' held
  m.release(2);
  CHECK(m.free_blocks() == 8);
}

TEST_CASE("truncate frees whole blocks past the new end", "[kv]") {
  BlockManager m(8, 4);
  REQUIRE(m.grow(3, 13));
  m.truncate(3, 5);
  CHECK(m.block_table(3).size() == 2);
  CHECK(m.length(3) == 5);
  CHECK(m.free_blocks() == 6);
}

namespace {

std::vector<int32_t> ids(size_t n, int32_t first) {
  std::vector<int32_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = first + int32_t(i);
  return v;
}

}  // namespace

TEST_CASE("prefix cache: a new sequence takes the full blocks it shares, leaving one token to compute", "[kv]") {
  BlockManager m(16, 4, true);
  const auto a = ids(10, 0);  // blocks [0..3] [4..7] and 2 tokens
  REQUIRE(m.grow(1, 10));
  m.cache_blocks(1, a, 10);
  auto b = a;
  b[9] = 99;  // same first 9 tokens
  CHECK(m.match_prefix(2, b) == 8);
  CHECK(m.block_table(2)[0] == m.block_table(1)[0]);
  CHECK(m.block_table(2)[1] == m.block_table(1)[1]);
  CHECK(m.length(2) == 8);
  // A prompt of exactly 8 shared tokens still computes its last one.
  CHECK(m.match_prefix(3, std::span(a).first(8)) == 4);
  // Different content from the second block on: only the first matches.
  auto c = a;
  c[5] = -1;
  CHECK(m.match_prefix(4, c) == 4);
  const KvStats st = m.stats();
  CHECK(st.prefix_hit_tokens == 16);
  CHECK(st.prefix_lookup_tokens == 10 + 8 + 10);
  // Off: nothing matches.
  BlockManager off(16, 4);
  REQUIRE(off.grow(1, 10));
  off.cache_blocks(1, a, 10);
  CHECK(off.match_prefix(2, a) == 0);
}

TEST_CASE("prefix cache: released blocks stay cached until the pool needs them, oldest first", "[kv]") {
  BlockManager m(4, 4, true);
  const auto a = ids(9, 0), b = ids(9, 100);
  REQUIRE(m.grow(1, 8));
  m.cache_blocks(1, a, 8);
  m.release(1);
  CHECK(m.free_blocks() == 4);  // cached blocks count as available
  CHECK(m.stats().blocks_used == 0);
  CHECK(m.stats().blocks_cached == 2);
  REQUIRE(m.grow(2, 8));  // takes the 2 truly free blocks first
  m.cache_blocks(2, b, 8);
  m.release(2);
  CHECK(m.stats().blocks_cached == 4);
  CHECK(m.match_prefix(3, a) == 8);  // a's blocks: in use again, no longer evictable
  m.release(3);                       // a is now the most recently used
  REQUIRE(m.grow(4, 8));              // evicts b's two blocks (older), not a's
  CHECK(m.stats().prefix_evictions == 2);
  CHECK(m.match_prefix(5, b) == 0);
  m.release(5);
  CHECK(m.match_prefix(6, a) == 8);
}

TEST_CASE("prefix cache: a cached block about to be rewritten leaves the cache; a shared one is dropped", "[kv]") {
  BlockManager m(8, 4, true);
  const auto a = ids(8, 0);
  REQUIRE(m.grow(1, 8));
  m.cache_blocks(1, a, 8);
  // Sequence 1 rewrites from position 6: its second block leaves the cache.
  CHECK(m.truncate(1, 6) == 6);
  CHECK(m.match_prefix(2, ids(9, 0)) == 4);
  // Sequence 2 shares block 0 with 1; truncating 2 into it keeps 1's intact.
  CHECK(m.truncate(2, 2) == 0);
  CHECK(m.length(1) == 6);
  CHECK(m.match_prefix(3, ids(9, 0)) == 4);
}

TEST_CASE("prefix index: colliding hashes are found, forgotten and found again in any order", "[kv]") {
  // 8 blocks -> a 16-slot table. Hashes 16k + 3 all start probing at slot 3,
  // 16k + 4 at slot 4: one probe run holding both, which forgetting entries in
  // the middle must not break (backward-shift deletion).
  PrefixIndex index(8, 2);
  const int32_t toks[8][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8}};
  auto hash_of = [](uint32_t block) { return uint64_t(16 * (block + 1) + (block % 2 ? 4 : 3)); };
  for (uint32_t b = 0; b < 8; ++b) REQUIRE(index.insert(b, hash_of(b), toks[b]));
  CHECK(index.cached_count() == 8);
  CHECK_FALSE(index.insert(0, hash_of(0), toks[0]));  // already cached
  for (uint32_t b = 0; b < 8; ++b) CHECK(index.find(hash_of(b), toks[b]) == b);
  CHECK_FALSE(index.find(hash_of(2), toks[3]).has_value());  // same hash, other tokens: no match
  for (uint32_t b : {2u, 5u, 0u}) index.forget(b);
  CHECK(index.cached_count() == 5);
  for (uint32_t b = 0; b < 8; ++b) {
    INFO("block " << b);
    const bool gone = b == 2 || b == 5 || b == 0;
    CHECK(index.find(hash_of(b), toks[b]).has_value() == !gone);
  }
  REQUIRE(index.insert(5, hash_of(5), toks[5]));
  for (uint32_t b : {1u, 3u, 4u, 5u, 6u, 7u}) CHECK(index.find(hash_of(b), toks[b]) == b);
}
