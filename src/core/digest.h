// SHA-256 digests of byte ranges and tensors (hex), for --print and golden tests.
#pragma once

#include <cstddef>
#include <string>

#include "core/tensor.h"

namespace idem {

std::string Sha256Hex(const void* data, size_t size);
// Digest of a tensor's element bytes (strings: each string's bytes followed by a 0 byte).
std::string TensorSha256(const Tensor& t);

}  // namespace idem
