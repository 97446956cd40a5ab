// The fixed binary header of a .idem artifact and its section table (docs/artifact.md).
//
// Layout (little-endian), kHeaderSize = 512 bytes:
//   0   char[4]  magic "IDEM"
//   4   u32      format version (kFormatVersion)
//   8   char[16] idem version that wrote the file, NUL-padded
//   24  u64      flags (kFlag*)
//   32  u32      header size (512)
//   36  u32      section count (<= kMaxSections)
//   40  section table: kMaxSections entries of 56 bytes
//         u32 kind, u32 reserved (0), u64 offset, u64 size, u8[32] SHA-256 of the section's bytes
//   432 reserved, zero
//   480 u8[32]   SHA-256 of bytes [0, 480)
// Sections follow the header in table order, each starting at a 64-byte-aligned offset; the
// bytes between sections are zero and the file ends exactly at the end of the last section.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace idem::artifact {

inline constexpr char kMagic[4] = {'I', 'D', 'E', 'M'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 512;
inline constexpr size_t kMaxSections = 7;
inline constexpr size_t kSectionAlignment = 64;
inline constexpr size_t kHeaderDigestOffset = 480;

// The idem version compiled into this binary ("0.2.0"). Bump it whenever a prepared (packed)
// layout changes: artifacts store prepared weights and load only into the version that wrote them.
const char* IdemVersion();

enum class SectionKind : uint32_t {
  kMetadata = 1,  // FlatBuffer (idem.fbs, root Model)
  kWeights = 2,   // tensor bytes, each tensor 64-byte aligned
};
const char* SectionKindName(SectionKind k);

// Header flags.
inline constexpr uint64_t kFlagPreparedWeights = 1;  // the weight section holds prepared (packed) states

using Digest = std::array<uint8_t, 32>;
Digest Sha256(const void* data, size_t size);
std::string DigestHex(const Digest& d);

struct Section {
  SectionKind kind = SectionKind::kMetadata;
  uint64_t offset = 0;
  uint64_t size = 0;
  Digest sha256{};
};

struct Header {
  uint32_t format_version = kFormatVersion;
  std::string idem_version;  // at most 15 characters
  uint64_t flags = 0;
  std::vector<Section> sections;
};

inline uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Encodes the header (with its own checksum). Fails if it has too many sections or the version
// string is too long.
Result<std::array<uint8_t, kHeaderSize>> EncodeHeader(const Header& h);

// Decodes and validates the header of a file of `file_size` bytes whose first
// min(file_size, kHeaderSize) bytes are `bytes`: magic, format version, header checksum, idem
// version (must equal IdemVersion() unless `expected_idem_version` says otherwise), section
// bounds, alignment, order and the file's exact length. Section digests are checked by the caller
// (VerifySections), since that reads the whole file.
Result<Header> DecodeHeader(const uint8_t* bytes, uint64_t file_size, const std::string& expected_idem_version);

// Checks every section's SHA-256 (skipping the weight section if `weights` is false) and that the
// gaps between sections are zero.
Status VerifySections(const Header& h, const uint8_t* file, uint64_t file_size, bool weights);

// True if the bytes start with the artifact magic.
bool HasArtifactMagic(const uint8_t* bytes, size_t size);

}  // namespace idem::artifact
