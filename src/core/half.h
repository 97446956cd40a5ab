// IEEE binary16 and bfloat16 storage types with round-to-nearest-even conversion from float.
// The conversions are pure integer bit manipulation: identical on every target (DESIGN.md §2).
#pragma once

#include <bit>
#include <cstdint>

namespace idem {

struct Float16 {
  uint16_t bits = 0;
  static Float16 FromBits(uint16_t b) { Float16 h; h.bits = b; return h; }
};
struct BFloat16 {
  uint16_t bits = 0;
  static BFloat16 FromBits(uint16_t b) { BFloat16 h; h.bits = b; return h; }
};

inline float HalfToFloat(Float16 h) {
  const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  const uint32_t exp = (h.bits >> 10) & 0x1Fu;
  uint32_t mant = h.bits & 0x3FFu;
  uint32_t out;
  if (exp == 0x1F) {
    out = sign | 0x7F800000u | (mant << 13);  // Inf / NaN (payload kept)
  } else if (exp != 0) {
    out = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    out = sign;
  } else {  // subnormal half -> normal float
    uint32_t e = 113;
    while ((mant & 0x400u) == 0) { mant <<= 1; --e; }
    mant &= 0x3FFu;
    out = sign | (e << 23) | (mant << 13);
  }
  return std::bit_cast<float>(out);
}

inline Float16 FloatToHalf(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // Inf or NaN: keep NaN quiet and non-zero
    const uint16_t nan = abs > 0x7F800000u ? static_cast<uint16_t>(0x200u | ((abs >> 13) & 0x3FFu)) : 0;
    return Float16::FromBits(sign | 0x7C00u | nan);
  }
  if (abs >= 0x477FF000u) return Float16::FromBits(sign | 0x7C00u);  // rounds to >= 65520: Inf
  if (abs < 0x38800000u) {  // result is subnormal or zero in half
    if (abs < 0x33000000u) return Float16::FromBits(sign);  // < 2^-25: rounds to zero
    const uint32_t e = abs >> 23;
    const uint32_t m = (abs & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126u - e;  // 14..24 bits to drop to land on 2^-24 units
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u))) ++r;
    return Float16::FromBits(static_cast<uint16_t>(sign | r));
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15 (in place)
  const uint32_t rem = r & 0x1FFFu;
  r >>= 13;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return Float16::FromBits(static_cast<uint16_t>(sign | r));
}

inline float BFloat16ToFloat(BFloat16 b) { return std::bit_cast<float>(static_cast<uint32_t>(b.bits) << 16); }

inline BFloat16 FloatToBFloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u) return BFloat16::FromBits(static_cast<uint16_t>((x >> 16) | 0x40u));
  x += 0x7FFFu + ((x >> 16) & 1u);
  return BFloat16::FromBits(static_cast<uint16_t>(x >> 16));
}

}  // namespace idem
