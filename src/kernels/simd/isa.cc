#include "kernels/simd/isa.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "kernels/simd/targets.h"
// targets.h first: it decides which targets Highway compiles.
#include <hwy/targets.h>

namespace idem::simd {
namespace {

constexpr int kUnset = -1;
std::atomic<int> g_isa{kUnset};
std::once_flag g_env_once;

int64_t HwyTargetOf(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return HWY_AVX2;
    case Isa::kAvx512:
      return HWY_AVX3;
    case Isa::kScalar:
      break;
  }
  return 0;
}

std::string SupportedList() {
  std::string s = "scalar";
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (IsaSupported(isa)) s += std::string(", ") + IsaName(isa);
  return s;
}

Status ResolveEnvironment() {
  const char* env = std::getenv("IDEM_ISA");
  if (env == nullptr || *env == '\0') {
    int expected = kUnset;
    g_isa.compare_exchange_strong(expected, static_cast<int>(BestIsa()));
    return Status::Ok();
  }
  Result<Isa> isa = ParseIsa(env);
  if (!isa.ok()) return isa.status().WithContext("environment variable IDEM_ISA");
  Status st = SetIsa(*isa);
  if (!st.ok()) return st.WithContext("environment variable IDEM_ISA");
  return Status::Ok();
}

}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

Result<Isa> ParseIsa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (name == IsaName(isa)) return isa;
  return InvalidArgument("unknown ISA '", std::string(name), "'; expected scalar, avx2 or avx512");
}

bool IsaSupported(Isa isa) {
  if (isa == Isa::kScalar) return true;
  // Asked once: hwy::SupportedTargets() runs CPUID, which is slow under a hypervisor.
  static const int64_t supported = HWY_TARGETS & hwy::SupportedTargets();
  return (supported & HwyTargetOf(isa)) != 0;
}

Isa BestIsa() {
  if (IsaSupported(Isa::kAvx512)) return Isa::kAvx512;
  if (IsaSupported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Status SetIsa(Isa isa) {
  if (!IsaSupported(isa))
    return InvalidArgument("ISA '", IsaName(isa), "' is not supported on this CPU (supported: ", SupportedList(), ")");
  g_isa.store(static_cast<int>(isa), std::memory_order_relaxed);
  return Status::Ok();
}

Status InitIsaFromEnvironment() {
  // Resolved once per process; later calls return the first outcome.
  static Status* result = nullptr;
  std::call_once(g_env_once, [] { result = new Status(ResolveEnvironment()); });
  return *result;
}

Isa CurrentIsa() {
  int isa = g_isa.load(std::memory_order_relaxed);
  if (isa != kUnset) return static_cast<Isa>(isa);
  Status st = InitIsaFromEnvironment();
  if (!st.ok()) {
    std::fprintf(stderr, "idem: warning: %s; using %s\n", st.message().c_str(), IsaName(BestIsa()));
    int expected = kUnset;
    g_isa.compare_exchange_strong(expected, static_cast<int>(BestIsa()));
  }
  isa = g_isa.load(std::memory_order_relaxed);
  return isa == kUnset ? BestIsa() : static_cast<Isa>(isa);
}

const char* CurrentIsaName() { return IsaName(CurrentIsa()); }

}  // namespace idem::simd
