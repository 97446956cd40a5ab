// Counter-based Philox4x32-10 (Salmon et al., SC'11). Random ops draw element i of node n as
// Philox(key = seed, counter = (i / 4, node_id)) lane i % 4, so a value depends only on
// (seed, node, element index) — never on threads, batching or call order (DESIGN.md D6).
#pragma once

#include <array>
#include <cstdint>

namespace idem {

inline std::array<uint32_t, 4> Philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * ctr[0];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * ctr[2];
    ctr = {static_cast<uint32_t>(p1 >> 32) ^ ctr[1] ^ key[0], static_cast<uint32_t>(p1),
           static_cast<uint32_t>(p0 >> 32) ^ ctr[3] ^ key[1], static_cast<uint32_t>(p0)};
    key[0] += kW0;
    key[1] += kW1;
  }
  return ctr;
}

// The stream of one random node: element i is a uniform uint32 that depends only on
// (seed, node_id, i). `node_id` is a stable hash of the node (its name or position).
class PhiloxStream {
 public:
  PhiloxStream(uint64_t seed, uint64_t node_id) : seed_(seed), node_(node_id) {}
  uint32_t Bits(uint64_t i) const {
    const uint64_t block = i >> 2;
    const auto r = Philox4x32_10({static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                                  static_cast<uint32_t>(node_), static_cast<uint32_t>(node_ >> 32)},
                                 {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)});
    return r[i & 3];
  }
  // Uniform float in [0, 1) with 24 random bits; double in [0,1) with 53 bits (two draws: 2i, 2i+1).
  float UniformFloat(uint64_t i) const { return static_cast<float>(Bits(i) >> 8) * 0x1.0p-24f; }
  double UniformDouble(uint64_t i) const {
    const uint64_t hi = Bits(2 * i) >> 5, lo = Bits(2 * i + 1) >> 6;  // 27 + 26 bits
    return static_cast<double>((hi << 26) | lo) * 0x1.0p-53;
  }

 private:
  uint64_t seed_, node_;
};

}  // namespace idem
