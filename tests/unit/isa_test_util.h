// ISA selection helpers of the SIMD tests (DESIGN.md R7: every compiled target against the
// scalar reference).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/simd/isa.h"

namespace idem::testing {

// Every ISA this build and CPU support: the scalar reference first, then AVX2, AVX-512.
inline std::vector<simd::Isa> SupportedIsas() {
  std::vector<simd::Isa> isas;
  for (simd::Isa isa : {simd::Isa::kScalar, simd::Isa::kAvx2, simd::Isa::kAvx512})
    if (simd::IsaSupported(isa)) isas.push_back(isa);
  return isas;
}

// The supported SIMD targets only (AVX2, AVX-512).
inline std::vector<simd::Isa> SupportedSimdIsas() {
  std::vector<simd::Isa> isas;
  for (simd::Isa isa : SupportedIsas())
    if (isa != simd::Isa::kScalar) isas.push_back(isa);
  return isas;
}

// Restores the process-wide ISA choice when the scope ends; with an argument, also makes `isa`
// current for the scope.
class IsaScope {
 public:
  IsaScope() : saved_(simd::CurrentIsa()) {}
  explicit IsaScope(simd::Isa isa) : IsaScope() { EXPECT_TRUE(simd::SetIsa(isa).ok()) << simd::IsaName(isa); }
  ~IsaScope() { EXPECT_TRUE(simd::SetIsa(saved_).ok()); }
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  simd::Isa saved_;
};

// run(prepared, pool) on the scalar ISA without a pool is the reference; on every SIMD ISA with
// 2 threads, unprepared and prepared, it must give the same floats bitwise. `what` names the case
// in failure messages.
inline void ExpectSimdEqualsScalar(const std::function<std::vector<float>(bool, ThreadPool*)>& run,
                                   const std::string& what) {
  std::vector<float> ref;
  {
    IsaScope scalar(simd::Isa::kScalar);
    ref = run(false, nullptr);
  }
  ASSERT_FALSE(ref.empty()) << what;
  for (simd::Isa isa : SupportedSimdIsas()) {
    IsaScope scope(isa);
    ThreadPool pool(2);
    for (bool prepared : {false, true}) {
      const std::vector<float> got = run(prepared, &pool);
      ASSERT_EQ(got.size(), ref.size()) << what;
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), sizeof(float) * ref.size()), 0)
          << what << ", " << simd::IsaName(isa) << ", prepared " << prepared;
    }
  }
}

}  // namespace idem::testing
