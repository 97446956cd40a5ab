// The SIMD targets idem compiles, in one place (STYLE.md: targets pruned in one header).
//
// Include this header before any Highway header in every SIMD translation unit. idem's SIMD
// targets are the FMA-capable x86 targets Highway calls HWY_AVX2 (AVX2+FMA+BMI2+F16C) and
// HWY_AVX3 (AVX-512 F/VL/DQ/BW). Highway insists on also compiling its static baseline target
// (HWY_SCALAR with idem's default x86-64 flags: HWY_TARGETS = SCALAR | AVX2 | AVX3); idem never
// dispatches to it: Isa::kScalar means idem's own scalar reference kernels (std::fma), not a
// Highway target. `-inl.h` files compile their bodies only when IDEM_SIMD_TARGET is 1, so the
// baseline pass costs no compile time.
#pragma once

#ifdef HWY_DISABLED_TARGETS
#error "kernels/simd/targets.h must be included before any Highway header"
#endif

// Everything but AVX2 and AVX3 that could otherwise be attainable on x86, and the baseline
// targets of other architectures (harmless there: those builds have no SIMD targets).
// HWY_AVX3_DL (Ice Lake: VNNI, VBMI2, BITALG...) is left out on purpose: idem's f32 kernels use
// nothing it adds over AVX3, and every SIMD file would compile a third time (the build is lean for
// 2-core CI); Highway 1.0.3 has no AVX3_ZEN4 target. Adding it later changes no bit: every target
// computes the canonical order.
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_SSE4 | HWY_AVX3_DL)
// Compile AVX2 and AVX3 even when the baseline (e.g. -march=native) would supersede AVX2.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif

#include <hwy/detect_targets.h>

// 1 while foreach_target.h is generating code for one of idem's SIMD targets.
#define IDEM_SIMD_TARGET (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3)

// Expands to &N_AVX2::FN / &N_AVX3::FN, or nullptr if that target is not compiled. For use in
// the HWY_ONCE section of a file that included foreach_target.h.
#if HWY_TARGETS & HWY_AVX2
#define IDEM_SIMD_AVX2_FN(FN) &N_AVX2::FN
#else
#define IDEM_SIMD_AVX2_FN(FN) nullptr
#endif
#if HWY_TARGETS & HWY_AVX3
#define IDEM_SIMD_AVX512_FN(FN) &N_AVX3::FN
#else
#define IDEM_SIMD_AVX512_FN(FN) nullptr
#endif
