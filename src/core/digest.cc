#include "core/digest.h"

#include <openssl/evp.h>

#include <string>

namespace idem {

namespace {
std::string ToHex(const unsigned char* d, unsigned n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kHex[d[i] >> 4]);
    s.push_back(kHex[d[i] & 15]);
  }
  return s;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  void Update(const void* d, size_t n) { EVP_DigestUpdate(ctx_, d, n); }
  std::string Hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    return ToHex(out, n);
  }

 private:
  EVP_MD_CTX* ctx_;
};
}  // namespace

std::string Sha256Hex(const void* data, size_t size) {
  Sha256 h;
  h.Update(data, size);
  return h.Hex();
}

std::string TensorSha256(const Tensor& t) {
  Sha256 h;
  if (t.dtype() == DType::kString) {
    const char zero = 0;
    for (const std::string& s : t.span<std::string>()) {
      h.Update(s.data(), s.size());
      h.Update(&zero, 1);
    }
  } else {
    h.Update(t.raw(), t.nbytes());
  }
  return h.Hex();
}

}  // namespace idem
