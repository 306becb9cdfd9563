// Helpers shared by the row kernels (norm, rope, softmax, swiglu): argument
// checks that turn a too-small buffer into a vkmind::Error instead of an
// out-of-bounds GPU access, and the workgroup size for one-row-per-workgroup
// kernels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "runtime/vk/device_report.h"
#include "runtime/vk/error.h"
#include "runtime/vk/memory.h"

namespace vkmind::ops::detail {

inline void require_bytes(const vk::BufferSlice& s, uint64_t bytes, const char* op, const char* what) {
  if (s.size < bytes) {
    throw Error(std::string(op) + ": " + what + " holds " + std::to_string(s.size) + " bytes, needs " +
                std::to_string(bytes));
  }
}

inline void require_subgroup_arithmetic(const vk::DeviceReport& report, const char* op) {
  if (!report.subgroup_arithmetic) throw Error(std::string(op) + ": needs subgroup arithmetic, which this device lacks");
}

// One workgroup per row of n floats: about 4 elements per invocation, a
// power of two between one subgroup and 256. Short rows (router logits,
// lavapipe's 8-wide subgroups) then do not idle most of a 256-wide group.
inline uint32_t row_workgroup(const vk::DeviceReport& report, uint32_t n) {
  const uint32_t lo = std::max<uint32_t>(report.subgroup_size, 1);
  // CPU devices (lavapipe): one subgroup, one SIMD vector, so no barrier,
  // which would cost a coroutine switch per subgroup.
  if (report.type == "CPU") return lo;
  const uint32_t hi = std::max(lo, std::min<uint32_t>(256, report.max_workgroup_invocations));
  uint32_t wg = lo;
  while (wg < hi && uint64_t(wg) * 4 < n) wg *= 2;
  return std::min(wg, hi);
}

}  // namespace vkmind::ops::detail
