// The paged KV pools as storage buffers, element type chosen by one define per
// variant (shaders/CMakeLists.txt): KV_F16 or KV_F32. Layout of each pool:
// [num_blocks][n_kv_heads][block_size][head_dim]. Elements move in pairs
// (head_dim is even): an f16 pair is one 32-bit word decoded with
// unpackHalf2x16 / encoded with packHalf2x16, so only 32-bit storage and f32
// math are used (no fp16 or 16-bit storage feature needed). The user defines
// KV_K_BINDING, KV_V_BINDING and KV_ACCESS (readonly / writeonly) first.
#ifndef VKMIND_KV_POOL_GLSL
#define VKMIND_KV_POOL_GLSL

#if defined(KV_F16)
layout(std430, binding = KV_K_BINDING) KV_ACCESS buffer KPool { uint k_pool[]; };
layout(std430, binding = KV_V_BINDING) KV_ACCESS buffer VPool { uint v_pool[]; };
#define KV_DECODE(w) unpackHalf2x16(w)
#define KV_ENCODE(x) packHalf2x16(x)
#elif defined(KV_F32)
layout(std430, binding = KV_K_BINDING) KV_ACCESS buffer KPool { vec2 k_pool[]; };
layout(std430, binding = KV_V_BINDING) KV_ACCESS buffer VPool { vec2 v_pool[]; };
#define KV_DECODE(w) (w)
#define KV_ENCODE(x) (x)
#else
#error "define KV_F16 or KV_F32"
#endif

#endif
