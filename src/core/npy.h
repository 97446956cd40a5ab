// NumPy .npy read/write (format versions 1.0-3.0, little-endian, C or Fortran order on read).
// Strings are read from '<U' (UTF-32) or '|S' arrays and written as '<U'. bfloat16 has no NumPy
// dtype: it is written as '<u2' holding the raw bits, and a '<u2' file is accepted where a
// bfloat16 input is expected.
#pragma once

#include <string>

#include "core/status.h"
#include "core/tensor.h"

namespace idem {

Result<Tensor> ReadNpy(const std::string& path);
Result<Tensor> ParseNpy(const std::string& bytes, const std::string& what);
Status WriteNpy(const std::string& path, const Tensor& t);
std::string SerializeNpy(const Tensor& t);

// File name stem for a model output name: keeps [A-Za-z0-9._-] and replaces everything else with
// '_' (so `idem run` writes DIR/<stem>.npy). Shared by the CLI and the tools that read its output.
std::string OutputFileStem(const std::string& name);

}  // namespace idem
