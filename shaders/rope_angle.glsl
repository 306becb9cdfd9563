// cos and sin of a RoPE angle, shared by rope.comp and qkv_prepare.comp so
// both rotate bit for bit alike.
//
// Vulkan bounds sin/cos error only on [-pi, pi]; GPUs lose accuracy fast
// beyond it, and angles reach pos (tens of thousands of radians). Reduce by
// 2*pi in three parts (Cody-Waite): C1 and C2 have few significant bits, so
// n*C1 and n*C2 are exact for n < 2^18 (angles up to ~1.6e6) and a - n*C1 is
// exact (Sterbenz); `precise` keeps the compiler from regrouping the terms.
#ifndef VKMIND_ROPE_ANGLE_GLSL
#define VKMIND_ROPE_ANGLE_GLSL

vec2 cos_sin(float a) {
  const float C1 = 6.25;                   // 5 significant bits
  const float C2 = 0.033203125;            // 17/512, 5 significant bits
  const float C3 = -1.7817820413768e-05;   // 2*pi - C1 - C2 (its f32 rounding: 1e-12)
  precise float n = roundEven(a * 0.15915494309189535);
  precise float r = a - n * C1;
  r = r - n * C2;
  r = r - n * C3;
  return vec2(cos(r), sin(r));
}

#endif
