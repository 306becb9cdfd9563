// Flash-decoding merge folded into the split kernels (attention.comp,
// attention_split_subgroup.comp): the workgroup that finishes a decode
// token's kv head last merges the partials of all its splits, so decode needs
// no second dispatch and no second barrier.
//
// The includer enables GL_KHR_memory_scope_semantics and declares, before
// including:
//   constants HD (head_dim), N_REP (query heads per kv head), NEG (the "no
//   key yet" max), push constants pc (push::Attention), and buffers
//   part[]     coherent float: the partial rows; coherent because other
//              workgroups of the same dispatch read them,
//   result[]   float, written,
//   arrivals[] uint, one per (token, kv head): splits arrived so far; zero
//              between dispatches (the plan zeroes it, the last split resets it).
// Split items carry the token's first split slot (word 6) and split count (word 7).
//
// Synchronization (valid for the GLSL450 memory model, where coherent
// accesses are available/visible at device scope): every invocation's partial
// stores happen-before invocation 0's arrival through a workgroup control
// barrier with device-scope acquire-release semantics on buffer memory; the
// arrival is an acquire-release atomic at device scope, so the last arriving
// workgroup's atomic synchronizes with every earlier one (each RMW extends the
// release sequence); a second such barrier hands that on to its other
// invocations before they read. Nothing waits on another workgroup, so no
// forward-progress guarantee between workgroups is assumed.
#ifndef VKMIND_ATTENTION_MERGE_GLSL
#define VKMIND_ATTENTION_MERGE_GLSL

const uint PARTIAL_FLOATS = HD + 2;  // acc[HD], running max m, running sum l

// Partial row of query row r (< N_REP) of kv head kvh in split slot `slot`:
// rows are [slot][query head], so one token's splits are n_heads rows apart.
uint partial_offset(uint slot, uint kvh, uint r) { return ((slot * pc.n_kv_heads + kvh) * N_REP + r) * PARTIAL_FLOATS; }

shared uint arrivals_s;

// Called by every invocation, in uniform control flow, after its partial
// stores. True in every invocation of the workgroup whose split arrived last;
// that one also leaves the counter at zero for the next dispatch.
bool arrived_last(uint counter, uint splits) {
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease);
  if (gl_LocalInvocationIndex == 0) {
    const uint before = atomicAdd(arrivals[counter], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer,
                                  gl_SemanticsAcquireRelease);
    // All splits have arrived: nothing else touches this counter in this
    // dispatch, and the graph's barriers order it before the next one.
    if (before == splits - 1) atomicExchange(arrivals[counter], 0u);
    arrivals_s = before + 1;
  }
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  return arrivals_s == splits;
}

// out[tok][head] = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M), M = max_s m_s,
// for the N_REP query heads of kv head kvh; invocation `lane` of `lanes`
// strides over head_dim.
void merge_partials(uint tok, uint kvh, uint first_slot, uint splits, uint lane, uint lanes) {
  const uint split_stride = pc.n_kv_heads * N_REP * PARTIAL_FLOATS;
  for (uint r = 0; r < N_REP; ++r) {
    const uint base = partial_offset(first_slot, kvh, r);
    float m = NEG;
    for (uint s = 0; s < splits; ++s) m = max(m, part[base + s * split_stride + HD]);
    float l = 0.0;
    for (uint s = 0; s < splits; ++s) {
      const uint p = base + s * split_stride;
      l += part[p + HD + 1] * exp(part[p + HD] - m);
    }
    const float inv_l = 1.0 / l;
    const uint o = tok * pc.out_stride + (kvh * N_REP + r) * HD;
    for (uint d = lane; d < HD; d += lanes) {
      float acc = 0.0;
      for (uint s = 0; s < splits; ++s) {
        const uint p = base + s * split_stride;
        acc += part[p + d] * exp(part[p + HD] - m);
      }
      result[o + d] = acc * inv_l;
    }
  }
}

#endif
