#include "core/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

namespace idem {

namespace {

std::string DescrOf(DType t) {
  switch (t) {
    case DType::kF32: return "<f4";
    case DType::kF64: return "<f8";
    case DType::kF16: return "<f2";
    case DType::kBF16: return "<u2";
    case DType::kI8: return "|i1";
    case DType::kI16: return "<i2";
    case DType::kI32: return "<i4";
    case DType::kI64: return "<i8";
    case DType::kU8: return "|u1";
    case DType::kU16: return "<u2";
    case DType::kU32: return "<u4";
    case DType::kU64: return "<u8";
    case DType::kBool: return "|b1";
    default: return "";
  }
}

Result<DType> DTypeOfDescr(const std::string& d, const std::string& what) {
  if (d.size() < 3) return InvalidArgument(what, ": unsupported .npy dtype '", d, "'");
  const char order = d[0];
  if (order == '>' && d.substr(1) != "i1" && d.substr(1) != "u1" && d.substr(1) != "b1")
    return InvalidArgument(what, ": big-endian .npy dtype '", d, "' is not supported");
  const std::string k = d.substr(1);
  if (k == "f4") return DType::kF32;
  if (k == "f8") return DType::kF64;
  if (k == "f2") return DType::kF16;
  if (k == "i1") return DType::kI8;
  if (k == "i2") return DType::kI16;
  if (k == "i4") return DType::kI32;
  if (k == "i8") return DType::kI64;
  if (k == "u1") return DType::kU8;
  if (k == "u2") return DType::kU16;
  if (k == "u4") return DType::kU32;
  if (k == "u8") return DType::kU64;
  if (k == "b1") return DType::kBool;
  if (k[0] == 'U' || k[0] == 'S') return DType::kString;
  return InvalidArgument(what, ": unsupported .npy dtype '", d, "'");
}

// Finds the value text of 'key' in the header dict.
bool HeaderField(const std::string& h, const std::string& key, std::string* out) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return false;
  size_t p = h.find(':', k);
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  if (p >= h.size()) return false;
  size_t e;
  if (h[p] == '\'') {
    e = h.find('\'', p + 1);
    if (e == std::string::npos) return false;
    *out = h.substr(p + 1, e - p - 1);
  } else if (h[p] == '(') {
    e = h.find(')', p);
    if (e == std::string::npos) return false;
    *out = h.substr(p + 1, e - p - 1);
  } else {
    e = h.find_first_of(",}", p);
    if (e == std::string::npos) return false;
    *out = h.substr(p, e - p);
  }
  return true;
}

}  // namespace

Result<Tensor> ParseNpy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    return InvalidArgument(what, ": not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return InvalidArgument(what, ": truncated .npy header");
    uint32_t l;
    std::memcpy(&l, bytes.data() + 8, 4);
    header_len = l;
    header_start = 12;
  } else {
    return InvalidArgument(what, ": unsupported .npy version ", major);
  }
  if (header_start + header_len > bytes.size()) return InvalidArgument(what, ": truncated .npy header");
  const std::string header = bytes.substr(header_start, header_len);
  std::string descr, fortran, shape_text;
  if (!HeaderField(header, "descr", &descr) || !HeaderField(header, "fortran_order", &fortran) ||
      !HeaderField(header, "shape", &shape_text))
    return InvalidArgument(what, ": malformed .npy header");
  IDEM_ASSIGN_OR_RETURN(DType dtype, DTypeOfDescr(descr, what));
  Shape shape;
  std::stringstream ss(shape_text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" ");
    if (b == std::string::npos) continue;
    try {
      size_t used = 0;
      const long long v = std::stoll(item.substr(b), &used);
      if (v < 0) return InvalidArgument(what, ": negative dimension in .npy shape");
      shape.push_back(v);
    } catch (...) {
      return InvalidArgument(what, ": malformed .npy shape '(", shape_text, ")'");
    }
  }
  const int64_t n = NumElements(shape);
  if (n < 0) return InvalidArgument(what, ": .npy shape too large");
  const size_t data_start = header_start + header_len;
  size_t elem = DTypeSize(dtype);
  size_t char_width = 0;
  if (dtype == DType::kString) {
    char_width = descr[1] == 'U' ? 4 : 1;
    size_t count = 0;
    try {
      count = std::stoul(descr.substr(2));
    } catch (...) {
      return InvalidArgument(what, ": malformed string dtype '", descr, "'");
    }
    elem = char_width * count;
  }
  if (elem != 0 && static_cast<size_t>(n) > (bytes.size() - data_start) / elem)
    return InvalidArgument(what, ": .npy data is truncated (expected ", n, " elements of ", descr, ")");
  IDEM_ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  const char* src = bytes.data() + data_start;
  if (dtype == DType::kString) {
    std::string* out = t.data<std::string>();
    for (int64_t i = 0; i < n; ++i) {
      std::string s;
      const char* e = src + static_cast<size_t>(i) * elem;
      for (size_t c = 0; c < elem / char_width; ++c) {
        uint32_t cp = 0;
        if (char_width == 4) std::memcpy(&cp, e + 4 * c, 4);
        else cp = static_cast<unsigned char>(e[c]);
        if (cp == 0) break;
        if (char_width == 1 || cp < 0x80) {
          s.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
      }
      out[i] = std::move(s);
    }
  } else if (n > 0) {
    std::memcpy(t.raw(), src, static_cast<size_t>(n) * elem);
  }
  if (fortran.find("True") != std::string::npos && t.rank() > 1) {
    // Convert column-major data to row-major.
    Tensor c = Tensor::Make(dtype, shape);
    const size_t r = shape.size();
    std::vector<int64_t> idx(r, 0);
    for (int64_t lin = 0; lin < n; ++lin) {
      int64_t f = 0, stride = 1;
      for (size_t d = 0; d < r; ++d) { f += idx[d] * stride; stride *= shape[d]; }
      if (dtype == DType::kString) c.data<std::string>()[lin] = t.data<std::string>()[f];
      else std::memcpy(static_cast<char*>(c.raw()) + lin * elem, static_cast<const char*>(t.raw()) + f * elem, elem);
      for (size_t d = r; d-- > 0;) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
    }
    t = c;
  }
  return t;
}

Result<Tensor> ReadNpy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return IoError("cannot open '", path, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseNpy(ss.str(), "'" + path + "'");
}

std::string SerializeNpy(const Tensor& t) {
  std::string descr = DescrOf(t.dtype());
  std::vector<std::u32string> wide;
  size_t width = 1;
  if (t.dtype() == DType::kString) {
    for (const std::string& s : t.span<std::string>()) {
      std::u32string w;
      for (size_t i = 0; i < s.size();) {  // decode UTF-8 (invalid bytes pass through as code points)
        const unsigned char c = static_cast<unsigned char>(s[i]);
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (i + static_cast<size_t>(extra) >= s.size() + (extra ? 0 : 1)) extra = 0;
        char32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
        for (int k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        w.push_back(cp);
        i += 1 + static_cast<size_t>(extra);
      }
      width = std::max(width, w.size());
      wide.push_back(std::move(w));
    }
    descr = "<U" + std::to_string(width);
  }
  std::string shape = "(";
  for (size_t i = 0; i < t.shape().size(); ++i) shape += std::to_string(t.shape()[i]) + ", ";
  if (t.shape().size() > 1) shape.resize(shape.size() - 2);
  else if (t.shape().size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY\x01";
  out.push_back('\0');
  out.push_back(static_cast<char>(header.size() & 0xFF));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  if (t.dtype() == DType::kString) {
    for (const auto& w : wide) {
      std::u32string padded = w;
      padded.resize(width, U'\0');
      out.append(reinterpret_cast<const char*>(padded.data()), padded.size() * 4);
    }
  } else {
    out.append(static_cast<const char*>(t.raw()), t.nbytes());
  }
  return out;
}

std::string OutputFileStem(const std::string& name) {
  std::string s = name.empty() ? "output" : name;
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (s == "." || s == "..") s = "_" + s;
  return s;
}

Status WriteNpy(const std::string& path, const Tensor& t) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return IoError("cannot write '", path, "'");
  const std::string bytes = SerializeNpy(t);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) return IoError("failed writing '", path, "'");
  return Status::Ok();
}

}  // namespace idem
