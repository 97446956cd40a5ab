#include "core/tensor.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <sstream>

namespace idem {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

std::string ShapeToString(const Shape& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  os << ']';
  return os.str();
}

namespace {
constexpr size_t kAlignment = 64;
// Allocation cap for one tensor: far beyond any realistic model, small enough that a corrupt shape
// gives a clean error instead of the OOM killer.
constexpr size_t kMaxTensorBytes = size_t{1} << 40;
}  // namespace

namespace {
std::atomic<int> g_poison{-1};  // -1: not read from the environment yet

}  // namespace

bool PoisonUninitialized() {
  int v = g_poison.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* e = std::getenv("IDEM_POISON_UNINITIALIZED");
    v = e != nullptr && e[0] != '\0' && std::string(e) != "0" ? 1 : 0;
    int expected = -1;
    if (!g_poison.compare_exchange_strong(expected, v)) v = expected;
  }
  return v == 1;
}

void SetPoisonUninitialized(bool on) { g_poison.store(on ? 1 : 0); }

namespace {
// Huge-page buffers (AllocateAlignedBytes): 2 MiB aligned from this size on.
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kHugePageThreshold = kHugePage;

}  // namespace

void* AllocateAlignedBytes(size_t bytes, bool huge_pages) {
  if (huge_pages && bytes >= kHugePageThreshold) {
    const size_t alloc = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, alloc);
#if defined(MADV_HUGEPAGE)
    if (p != nullptr) (void)madvise(p, alloc, MADV_HUGEPAGE);
#endif
    return p;
  }
  const size_t alloc = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  return std::aligned_alloc(kAlignment, alloc == 0 ? kAlignment : alloc);
}

void AlignedFree::operator()(void* p) const { std::free(p); }

Result<std::shared_ptr<Buffer>> Buffer::Allocate(DType dtype, int64_t count, bool zero, bool huge_pages) {
  if (count < 0) return InvalidArgument("negative element count ", count);
  const size_t elem = DTypeSize(dtype);
  if (elem == 0) return InvalidArgument("cannot allocate elements of type ", DTypeOnnxName(dtype));
  if (static_cast<size_t>(count) > kMaxTensorBytes / elem)
    return OutOfMemory("tensor of ", count, " elements of type ", DTypeOnnxName(dtype), " is too large");
  std::shared_ptr<Buffer> b(new Buffer());
  b->dtype_ = dtype;
  b->count_ = count;
  b->bytes_ = static_cast<size_t>(count) * elem;
  b->data_ = AllocateAlignedBytes(b->bytes_, huge_pages && dtype != DType::kString);
  if (b->data_ == nullptr) return OutOfMemory("could not allocate ", b->bytes_, " bytes");
  b->owned_ = true;
  if (dtype == DType::kString) {
    auto* s = static_cast<std::string*>(b->data_);
    for (int64_t i = 0; i < count; ++i) new (s + i) std::string();
  } else if (b->bytes_ > 0 && zero) {
    std::memset(b->data_, 0, b->bytes_);
  } else if (b->bytes_ > 0 && PoisonUninitialized()) {
    std::memset(b->data_, 0xFF, b->bytes_);
  }
  return b;
}

std::shared_ptr<Buffer> Buffer::View(void* data, size_t bytes, std::shared_ptr<void> owner) {
  std::shared_ptr<Buffer> b(new Buffer());
  b->data_ = data;
  b->bytes_ = bytes;
  b->owner_ = std::move(owner);
  return b;
}

Buffer::~Buffer() {
  if (!owned_) return;
  if (dtype_ == DType::kString) {
    auto* s = static_cast<std::string*>(data_);
    for (int64_t i = 0; i < count_; ++i) s[i].~basic_string();
  }
  std::free(data_);
}

Result<Tensor> Tensor::Allocate(DType dtype, Shape shape, bool zero, bool huge_pages) {
  const int64_t n = NumElements(shape);
  if (n < 0) return InvalidArgument("invalid tensor shape ", ShapeToString(shape));
  IDEM_ASSIGN_OR_RETURN(auto buf, Buffer::Allocate(dtype, n, zero, huge_pages));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numel_ = n;
  t.buffer_ = std::move(buf);
  return t;
}

Result<Tensor> Tensor::Create(DType dtype, Shape shape) { return Allocate(dtype, std::move(shape), true); }

Result<Tensor> Tensor::CreateLongLived(DType dtype, Shape shape) {
  return Allocate(dtype, std::move(shape), /*zero=*/true, /*huge_pages=*/true);
}

Result<Tensor> Tensor::CreateUninitialized(DType dtype, Shape shape) {
  return Allocate(dtype, std::move(shape), false);
}

Tensor Tensor::Make(DType dtype, Shape shape) {
  auto r = Create(dtype, std::move(shape));
  IDEM_CHECK(r.ok(), r.status().message());
  return std::move(r).value();
}

Tensor MakeTensorView(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer, size_t offset) {
  Tensor t;
  t.dtype_ = dtype;
  t.numel_ = NumElements(shape);
  t.shape_ = std::move(shape);
  t.buffer_ = std::move(buffer);
  t.offset_ = offset;
  return t;
}

Result<Tensor> Tensor::Reshaped(Shape shape) const {
  if (NumElements(shape) != numel_)
    return InvalidArgument("cannot reshape ", ShapeToString(shape_), " to ", ShapeToString(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::Clone() const {
  Tensor t = Make(dtype_, shape_);
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < numel_; ++i) t.data<std::string>()[i] = data<std::string>()[i];
  } else if (nbytes() > 0) {
    std::memcpy(t.raw(), raw(), nbytes());
  }
  return t;
}

namespace {
template <typename R>
R ElementAs(const Tensor& t, int64_t i) {
  R out{};
  Status st = VisitDType<types::kAllPod>(t.dtype(), "element access", [&](auto tag) {
    using T = typename decltype(tag)::type;
    out = static_cast<R>(Load<T>(t.data<T>()[i]));
    return Status::Ok();
  });
  IDEM_CHECK(st.ok(), st.message());
  return out;
}
}  // namespace

int64_t Tensor::IntAt(int64_t i) const { return ElementAs<int64_t>(*this, i); }
double Tensor::DoubleAt(int64_t i) const { return ElementAs<double>(*this, i); }

std::vector<int64_t> Tensor::ToInt64Vector() const {
  std::vector<int64_t> v(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) v[static_cast<size_t>(i)] = IntAt(i);
  return v;
}

bool Tensor::Equals(const Tensor& o) const {
  if (dtype_ != o.dtype_ || shape_ != o.shape_) return false;
  if (dtype_ == DType::kString) {
    for (int64_t i = 0; i < numel_; ++i)
      if (data<std::string>()[i] != o.data<std::string>()[i]) return false;
    return true;
  }
  return nbytes() == 0 || std::memcmp(raw(), o.raw(), nbytes()) == 0;
}

}  // namespace idem
