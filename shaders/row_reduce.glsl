// Workgroup-wide reductions for kernels that give one workgroup to one row
// (rmsnorm, softmax). Each subgroup reduces with subgroup arithmetic, then
// one value per subgroup meets in shared memory. Nothing assumes a subgroup
// size: the scratch holds WG slots, enough for subgroups as small as 1, and
// partial subgroups (WG not a multiple of the size) are fine because
// subgroup operations skip inactive invocations.
//
// The includer enables GL_KHR_shader_subgroup_arithmetic and declares the
// specialization constant WG (the workgroup size).
#ifndef VKMIND_ROW_REDUCE_GLSL
#define VKMIND_ROW_REDUCE_GLSL

shared float reduce_a[WG];
shared float reduce_b[WG];

// Every invocation of the workgroup must call it (it has barriers).
float workgroup_sum(float v) {
  v = subgroupAdd(v);
  if (subgroupElect()) reduce_a[gl_SubgroupID] = v;
  barrier();
  float total = 0.0;
  for (uint s = 0; s < gl_NumSubgroups; ++s) total += reduce_a[s];
  barrier();  // the scratch may be reused by the next reduction
  return total;
}

// Merges per-invocation online-softmax states (running max m, sum s of
// exp(x - m)) into the row's (max, sum). A state with m = -inf holds nothing
// (s = 0); it is weighted 0 explicitly rather than through exp(-inf - -inf).
vec2 workgroup_max_sum(float m, float s, float neg_inf) {
  float sm = subgroupMax(m);
  float ss = subgroupAdd(m == neg_inf ? 0.0 : s * exp(m - sm));
  if (subgroupElect()) {
    reduce_a[gl_SubgroupID] = sm;
    reduce_b[gl_SubgroupID] = ss;
  }
  barrier();
  float row_max = neg_inf;
  for (uint g = 0; g < gl_NumSubgroups; ++g) row_max = max(row_max, reduce_a[g]);
  float row_sum = 0.0;
  if (row_max != neg_inf) {
    for (uint g = 0; g < gl_NumSubgroups; ++g) {
      float gm = reduce_a[g];
      if (gm != neg_inf) row_sum += reduce_b[g] * exp(gm - row_max);
    }
  }
  barrier();
  return vec2(row_max, row_sum);
}

#endif
