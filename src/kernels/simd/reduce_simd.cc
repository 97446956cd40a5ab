// Per-ISA dispatch of the reduce-family SIMD primitives (reduce_simd.h). The kernels are in
// reduce-inl.h, compiled here once per target of kernels/simd/targets.h.

#include "kernels/simd/targets.h"  // first: decides the targets foreach_target.h compiles

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/reduce_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/reduce-inl.h"

#if HWY_ONCE

#include "kernels/simd/reduce_simd.h"

namespace idem::simd {
namespace {

using MakeFn = ReduceKernels (*)();

ReduceKernels Make(MakeFn make) { return make ? make() : ReduceKernels{}; }

}  // namespace

const ReduceKernels* ReduceKernelsFor(Isa isa) {
  if (isa == Isa::kScalar || !IsaSupported(isa)) return nullptr;
  if (isa == Isa::kAvx2) {
    static const ReduceKernels avx2 = Make(IDEM_SIMD_AVX2_FN(MakeReduceKernels));
    return avx2.sum ? &avx2 : nullptr;
  }
  static const ReduceKernels avx512 = Make(IDEM_SIMD_AVX512_FN(MakeReduceKernels));
  return avx512.sum ? &avx512 : nullptr;
}

}  // namespace idem::simd

#endif  // HWY_ONCE
