#include "tests/shaders/gpu_fixture.h"

#include <cmath>
#include <memory>

namespace vkmind::test {

vk::Context& gpu_context() {
  // One device for the whole test process: instance and device creation
  // (with validation) is the slowest part of a kernel test on lavapipe.
  static std::unique_ptr<vk::Context> context = std::make_unique<vk::Context>(vk::ContextOptions{"", true});
  return *context;
}

GpuFixture::GpuFixture()
    : ctx(gpu_context()),
      device_arena(ctx.device(), vk::MemoryKind::DeviceLocal, VkDeviceSize(16) << 20),
      host_arena(ctx.device(), vk::MemoryKind::HostVisible, VkDeviceSize(4) << 20) {
  ctx.instance().take_validation_messages();
}

GpuFixture::~GpuFixture() {
  auto messages = ctx.instance().take_validation_messages();
  for (const auto& m : messages) UNSCOPED_INFO("validation: " << m);
  CHECK(messages.empty());
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace vkmind::test
