// The paged-KV block manager: allocation, slots, sharing and copy-on-write.
#include <catch2/catch.hpp>

#include "runtime/kv_cache/block_manager.h"

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
