#include "artifact/format.h"

#include <openssl/sha.h>

#include <bit>
#include <cstring>

#ifndef IDEM_VERSION_STRING
#error "IDEM_VERSION_STRING must be defined by the build"
#endif

namespace idem::artifact {

static_assert(std::endian::native == std::endian::little, "the artifact format is little-endian");

namespace {

constexpr size_t kSectionEntrySize = 56;
constexpr size_t kSectionTableOffset = 40;
static_assert(kSectionTableOffset + kMaxSections * kSectionEntrySize <= kHeaderDigestOffset);
static_assert(kHeaderDigestOffset + 32 == kHeaderSize);

template <typename T>
void Put(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}
template <typename T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

const char* IdemVersion() { return IDEM_VERSION_STRING; }

const char* SectionKindName(SectionKind k) {
  switch (k) {
    case SectionKind::kMetadata: return "metadata";
    case SectionKind::kWeights: return "weights";
  }
  return "unknown";
}

Digest Sha256(const void* data, size_t size) {
  Digest d;
  SHA256(static_cast<const unsigned char*>(data), size, d.data());
  return d;
}

std::string DigestHex(const Digest& d) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

bool HasArtifactMagic(const uint8_t* bytes, size_t size) {
  return size >= 4 && std::memcmp(bytes, kMagic, 4) == 0;
}

Result<std::array<uint8_t, kHeaderSize>> EncodeHeader(const Header& h) {
  if (h.sections.size() > kMaxSections) return Internal("artifact header: ", h.sections.size(), " sections, at most ", kMaxSections);
  if (h.idem_version.size() >= 16) return Internal("artifact header: version string '", h.idem_version, "' too long");
  std::array<uint8_t, kHeaderSize> b{};
  std::memcpy(b.data(), kMagic, 4);
  Put<uint32_t>(&b[4], h.format_version);
  std::memcpy(&b[8], h.idem_version.data(), h.idem_version.size());
  Put<uint64_t>(&b[24], h.flags);
  Put<uint32_t>(&b[32], static_cast<uint32_t>(kHeaderSize));
  Put<uint32_t>(&b[36], static_cast<uint32_t>(h.sections.size()));
  for (size_t i = 0; i < h.sections.size(); ++i) {
    uint8_t* e = &b[kSectionTableOffset + i * kSectionEntrySize];
    Put<uint32_t>(e, static_cast<uint32_t>(h.sections[i].kind));
    Put<uint64_t>(e + 8, h.sections[i].offset);
    Put<uint64_t>(e + 16, h.sections[i].size);
    std::memcpy(e + 24, h.sections[i].sha256.data(), 32);
  }
  const Digest d = Sha256(b.data(), kHeaderDigestOffset);
  std::memcpy(&b[kHeaderDigestOffset], d.data(), 32);
  return b;
}

Result<Header> DecodeHeader(const uint8_t* bytes, uint64_t file_size, const std::string& expected_idem_version) {
  if (file_size == 0) return InvalidModel("not an idem artifact: the file is empty");
  if (!HasArtifactMagic(bytes, static_cast<size_t>(std::min<uint64_t>(file_size, 4))))
    return InvalidModel("not an idem artifact: bad magic (expected \"IDEM\")");
  if (file_size < 8) return InvalidModel("idem artifact is truncated: ", file_size, " bytes, the header alone is ", kHeaderSize);
  Header h;
  h.format_version = Get<uint32_t>(bytes + 4);
  if (h.format_version != kFormatVersion)
    return InvalidModel("idem artifact has format version ", h.format_version, ", this idem reads version ", kFormatVersion,
                        "; recompile the model");
  if (file_size < kHeaderSize)
    return InvalidModel("idem artifact is truncated: ", file_size, " bytes, the header alone is ", kHeaderSize);
  const Digest d = Sha256(bytes, kHeaderDigestOffset);
  if (std::memcmp(d.data(), bytes + kHeaderDigestOffset, 32) != 0)
    return InvalidModel("idem artifact is corrupt: header checksum mismatch");
  char version[17] = {};
  std::memcpy(version, bytes + 8, 16);
  h.idem_version = version;
  if (h.idem_version != expected_idem_version)
    return InvalidModel("idem artifact was built by idem ", h.idem_version.empty() ? "?" : h.idem_version,
                        ", this is idem ", expected_idem_version, "; recompile the model");
  h.flags = Get<uint64_t>(bytes + 24);
  if (Get<uint32_t>(bytes + 32) != kHeaderSize) return InvalidModel("idem artifact is corrupt: bad header size");
  const uint32_t n = Get<uint32_t>(bytes + 36);
  if (n > kMaxSections) return InvalidModel("idem artifact is corrupt: ", n, " sections, at most ", kMaxSections);
  uint64_t end = kHeaderSize;
  for (uint32_t i = 0; i < n; ++i) {
    const uint8_t* e = bytes + kSectionTableOffset + i * kSectionEntrySize;
    Section s;
    s.kind = static_cast<SectionKind>(Get<uint32_t>(e));
    s.offset = Get<uint64_t>(e + 8);
    s.size = Get<uint64_t>(e + 16);
    std::memcpy(s.sha256.data(), e + 24, 32);
    if (s.kind != SectionKind::kMetadata && s.kind != SectionKind::kWeights)
      return InvalidModel("idem artifact is corrupt: section ", i, " has unknown kind ", static_cast<uint32_t>(s.kind));
    for (const Section& prev : h.sections)
      if (prev.kind == s.kind) return InvalidModel("idem artifact is corrupt: two ", SectionKindName(s.kind), " sections");
    if (s.offset % kSectionAlignment != 0 || s.offset < end)
      return InvalidModel("idem artifact is corrupt: ", SectionKindName(s.kind), " section at bad offset ", s.offset);
    if (s.size > file_size || s.offset > file_size - s.size)
      return InvalidModel("idem artifact is truncated: the ", SectionKindName(s.kind), " section ends at byte ",
                          s.offset > UINT64_MAX - s.size ? UINT64_MAX : s.offset + s.size, ", the file has ", file_size,
                          " bytes");
    end = s.offset + s.size;
    h.sections.push_back(s);
  }
  bool has_meta = false;
  for (const Section& s : h.sections) has_meta |= s.kind == SectionKind::kMetadata;
  if (!has_meta) return InvalidModel("idem artifact is corrupt: no metadata section");
  if (end != file_size)
    return InvalidModel("idem artifact is corrupt: ", file_size - end, " unexpected bytes after the last section");
  return h;
}

Status VerifySections(const Header& h, const uint8_t* file, uint64_t file_size, bool weights) {
  uint64_t pos = kHeaderSize;
  for (const Section& s : h.sections) {
    for (uint64_t i = pos; i < s.offset; ++i)
      if (file[i] != 0) return InvalidModel("idem artifact is corrupt: non-zero padding at byte ", i);
    pos = s.offset + s.size;
    if (s.kind == SectionKind::kWeights && !weights) continue;
    const Digest d = Sha256(file + s.offset, static_cast<size_t>(s.size));
    if (d != s.sha256) return InvalidModel("idem artifact is corrupt: ", SectionKindName(s.kind), " section checksum mismatch");
  }
  if (pos != file_size) return InvalidModel("idem artifact is corrupt: trailing bytes");
  return Status::Ok();
}

}  // namespace idem::artifact
