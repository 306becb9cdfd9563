// Push-constant blocks, declared once for both C++ and GLSL. In C++ each block
// is a struct (runtime/ops includes this file); a shader selects its block by
// defining PUSH_<NAME> before including it. Only 4-byte scalars appear, so the
// std430 offsets GLSL uses equal the C++ layout; sizes are static_asserted.
#ifndef VKMIND_PUSH_CONSTANTS_H
#define VKMIND_PUSH_CONSTANTS_H

#ifdef __cplusplus
#include <cstdint>
namespace vkmind::push {
using uint = uint32_t;
#define VKM_PUSH_BLOCK(NAME) struct NAME
#define VKM_PUSH_END(NAME) ;
#else
#define VKM_PUSH_BLOCK(NAME) layout(push_constant) uniform NAME
#define VKM_PUSH_END(NAME) pc;
#endif

// out[i] = a[i] + b[i], i < n
#if defined(__cplusplus) || defined(PUSH_Add)
VKM_PUSH_BLOCK(Add) {
  uint n;
} VKM_PUSH_END(Add)
#endif

// dst[t][j] = src[t * src_stride + src_offset + j], j < cols, t < rows
#if defined(__cplusplus) || defined(PUSH_CopyColumns)
VKM_PUSH_BLOCK(CopyColumns) {
  uint rows;
  uint cols;
  uint src_stride;
  uint src_offset;
} VKM_PUSH_END(CopyColumns)
#endif

// x[t][j] += bias[j], j < cols, t < rows
#if defined(__cplusplus) || defined(PUSH_AddBias)
VKM_PUSH_BLOCK(AddBias) {
  uint rows;
  uint cols;
} VKM_PUSH_END(AddBias)
#endif

#ifdef __cplusplus
static_assert(sizeof(Add) == 4);
static_assert(sizeof(CopyColumns) == 16);
static_assert(sizeof(AddBias) == 8);
}  // namespace vkmind::push
#endif

#endif
