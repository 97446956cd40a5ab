// Instruction-set selection: one process-wide choice of the kernels' target.
//
// Every ISA gives bitwise identical results (DESIGN.md D4); the choice changes speed only.
//  - kScalar: idem's own scalar reference kernels (std::fma), on every CPU.
//  - kAvx2:   Highway's HWY_AVX2 target (AVX2 + FMA).
//  - kAvx512: Highway's HWY_AVX3 target (AVX-512 F/VL/DQ/BW).
// The choice is made once: the best ISA the CPU supports, unless the environment variable
// IDEM_ISA=scalar|avx2|avx512 or SetIsa (the CLI's --isa) says otherwise.
//
// Thread-safe: CurrentIsa may be called from any thread; SetIsa should be called before kernels
// run (calling it later is safe, and changes which code runs, never a result).
#pragma once

#include <string_view>

#include "core/status.h"

namespace idem::simd {

enum class Isa { kScalar, kAvx2, kAvx512 };

// "scalar", "avx2", "avx512".
const char* IsaName(Isa isa);

// Parses "scalar" | "avx2" | "avx512"; an InvalidArgument naming the accepted values otherwise.
Result<Isa> ParseIsa(std::string_view name);

// True if idem was compiled for `isa` and this CPU (and OS) supports it. kScalar always is.
bool IsaSupported(Isa isa);

// The fastest supported ISA.
Isa BestIsa();

// Makes `isa` the process-wide choice; an InvalidArgument (naming the ISA and what this CPU
// supports) if it is not supported, in which case the choice is unchanged.
Status SetIsa(Isa isa);

// Resolves the environment variable IDEM_ISA (if set) into the process-wide choice; an error
// for an unknown or unsupported value. Called lazily by CurrentIsa (which, on such an error,
// prints one warning and uses BestIsa()); a tool calls it first to report the error itself.
Status InitIsaFromEnvironment();

// The ISA kernels use now.
Isa CurrentIsa();

// IsaName(CurrentIsa()), for `idem run --print`.
const char* CurrentIsaName();

}  // namespace idem::simd
