// The device layer and the command graph: validation is really on, device
// selection, barriers derived from read/write sets, replay with new inputs,
// indirect dispatch, and clear errors for bindings the device cannot take.
#include <catch2/catch.hpp>

#include "runtime/ops/elementwise.h"
#include "runtime/vk/error.h"
#include "runtime/vk/pipeline_cache.h"
#include "shaders/push_constants.h"
#include "tests/shaders/gpu_fixture.h"

using namespace vkmind;

TEST_CASE("the validation layer reports misuse", "[device]") {
  vk::Context& ctx = test::gpu_context();
  if (!ctx.instance().validation_enabled()) {
    WARN("SKIPPED: VK_LAYER_KHRONOS_validation is not installed");
    return;
  }
  ctx.instance().take_validation_messages();
  // A zero-sized buffer violates VUID-VkBufferCreateInfo-size-00912.
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = 0;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer buffer = VK_NULL_HANDLE;
  vkCreateBuffer(ctx.device().get(), &info, nullptr, &buffer);
  if (buffer) vkDestroyBuffer(ctx.device().get(), buffer, nullptr);
  auto messages = ctx.instance().take_validation_messages();
  REQUIRE_FALSE(messages.empty());
  CHECK(messages[0].find("size") != std::string::npos);
}

TEST_CASE("device selection by index and name; unknown devices list the choices", "[device]") {
  vk::Instance instance(vk::InstanceOptions{});
  REQUIRE_FALSE(instance.physical_devices().empty());
  CHECK(vk::select_physical_device(instance, "0") == instance.physical_devices()[0]);
  vk::DeviceReport report = vk::query_device_report(instance.physical_devices()[0]);
  std::string part = report.name.substr(0, 4);
  CHECK(vk::select_physical_device(instance, part) == instance.physical_devices()[0]);
  try {
    vk::select_physical_device(instance, "99");
    FAIL("device 99 was accepted");
  } catch (const vk::NoSuchDevice& e) {
    CHECK(e.device_list().find(report.name) != std::string::npos);
  }
  CHECK_THROWS_AS(vk::select_physical_device(instance, "no-such-gpu-name"), vk::NoSuchDevice);
}

TEST_CASE("the feature report has the basics", "[device]") {
  const vk::DeviceReport& r = test::gpu_context().device().report();
  CHECK(r.subgroup_size >= 1);
  CHECK(r.max_storage_buffer_range >= (1u << 27) - 1);
  CHECK(r.max_shared_memory >= 16384);
  CHECK_FALSE(r.heaps.empty());
  std::string text = vk::format_device_report(r);
  CHECK(text.find("subgroup size") != std::string::npos);
  CHECK(text.find("max storage buffer") != std::string::npos);
}

TEST_CASE("a pipeline cache file for another device, or garbage, is ignored", "[device]") {
  const vk::DeviceReport& r = test::gpu_context().device().report();
  CHECK_FALSE(vk::PipelineCache::header_matches("garbage", r));
  CHECK_FALSE(vk::PipelineCache::header_matches(std::string(64, '\0'), r));
  VkPipelineCacheHeaderVersionOne header{32, VK_PIPELINE_CACHE_HEADER_VERSION_ONE, r.vendor_id, r.device_id, {}};
  std::memcpy(header.pipelineCacheUUID, r.pipeline_cache_uuid, VK_UUID_SIZE);
  std::string good(reinterpret_cast<const char*>(&header), sizeof header);
  CHECK(vk::PipelineCache::header_matches(good, r));
  header.deviceID ^= 1;
  CHECK_FALSE(vk::PipelineCache::header_matches(std::string(reinterpret_cast<const char*>(&header), sizeof header), r));
}

TEST_CASE_METHOD(test::GpuFixture, "barriers only where a node depends on an earlier one", "[graph]") {
  const uint32_t n = 1000;
  auto a = upload(test::random_floats(n, 1));
  auto b = upload(test::random_floats(n, 2));
  auto x = device_buffer(n * 4), y = device_buffer(n * 4), z = device_buffer(n * 4);

  graph::Graph g(ctx.device());
  ops::add(ctx, g, a, b, x, n);  // 0: writes x
  ops::add(ctx, g, a, b, y, n);  // 1: independent of 0 -> no barrier
  ops::add(ctx, g, x, y, z, n);  // 2: reads x, y -> barrier
  ops::add(ctx, g, a, a, x, n);  // 3: overwrites x that 2 read -> barrier (write after read)
  g.record();
  CHECK_FALSE(g.barrier_before(0));
  CHECK_FALSE(g.barrier_before(1));
  CHECK(g.barrier_before(2));
  CHECK(g.barrier_before(3));
  CHECK(g.barrier_count() == 2);
  g.run();
  auto av = download<float>(a, n), bv = download<float>(b, n), zv = download<float>(z, n);
  for (uint32_t i = 0; i < n; ++i) REQUIRE(zv[i] == (av[i] + bv[i]) + (av[i] + bv[i]));
}

TEST_CASE_METHOD(test::GpuFixture, "a recorded graph replays with new inputs", "[graph]") {
  const uint32_t n = 333;
  auto in = host_arena.allocate(n * 4);
  auto out = host_arena.allocate(n * 4);
  graph::Graph g(ctx.device());
  ops::add(ctx, g, in, in, out, n);
  g.record();
  for (int step = 0; step < 3; ++step) {
    auto values = test::random_floats(n, 10 + step);
    std::memcpy(in.mapped, values.data(), n * 4);
    g.run();
    const float* result = reinterpret_cast<const float*>(out.mapped);
    for (uint32_t i = 0; i < n; ++i) REQUIRE(result[i] == values[i] * 2);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "bindings over maxStorageBufferRange are refused with a clear error", "[graph]") {
  const auto limit = ctx.device().report().max_storage_buffer_range;
  if (limit >= (VkDeviceSize(1) << 31)) {
    WARN("SKIPPED: this device's maxStorageBufferRange is too large to exceed cheaply");
    return;
  }
  vk::Arena big(ctx.device(), vk::MemoryKind::DeviceLocal, limit + 1024);
  auto huge = big.allocate(limit + 16);
  auto small = device_buffer(64);
  graph::Graph g(ctx.device());
  try {
    ops::add(ctx, g, huge, small, small, 16);
    FAIL("the oversized binding was accepted");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("maxStorageBufferRange") != std::string::npos);
  }
}

TEST_CASE_METHOD(test::GpuFixture, "an indirect dispatch runs the workgroups its arguments ask for, each run", "[graph]") {
  // add.comp with 256-wide workgroups over 1000 floats: up to 4 groups; the
  // arguments name 0..4 of them per run, and exactly that prefix is written.
  const uint32_t n = 1000, workgroup = 256;
  auto a = host_arena.allocate(n * 4), out = host_arena.allocate(n * 4), arguments = host_arena.allocate(16);
  auto values = test::random_floats(n, 7);
  std::memcpy(a.mapped, values.data(), n * 4);
  const auto& add = ctx.pipeline({"add", 3, sizeof(push::Add), {workgroup}});
  graph::Graph g(ctx.device());
  g.dispatch_indirect(add, {graph::reads(a), graph::reads(a), graph::writes(out)}, push::Add{n}, arguments,
                      {4, 1, 1}, "add");
  g.record();
  for (uint32_t groups : {2u, 0u, 4u, 1u}) {
    const uint32_t counts[3] = {groups, 1, 1};
    std::memcpy(arguments.mapped, counts, sizeof counts);
    std::fill_n(reinterpret_cast<float*>(out.mapped), n, -1.0f);  // inputs are in [-1, 1): 2a is never exactly -1 here
    g.run();
    const float* result = reinterpret_cast<const float*>(out.mapped);
    const uint32_t written = std::min(n, groups * workgroup);
    for (uint32_t i = 0; i < n; ++i) {
      INFO("groups " << groups << ", element " << i);
      REQUIRE(result[i] == (i < written ? values[i] * 2 : -1.0f));
    }
  }
}

TEST_CASE_METHOD(test::GpuFixture, "indirect arguments that are too small are refused", "[graph]") {
  auto a = host_arena.allocate(64), arguments = host_arena.allocate(8);
  const auto& add = ctx.pipeline({"add", 3, sizeof(push::Add), {256u}});
  graph::Graph g(ctx.device());
  CHECK_THROWS_WITH(g.dispatch_indirect(add, {graph::reads(a), graph::reads(a), graph::writes(a)}, push::Add{16},
                                        arguments, {1, 1, 1}, "add"),
                    Catch::Contains("indirect arguments"));
}
