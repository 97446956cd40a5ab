// Tensor: a dtype, a shape and a reference-counted, 64-byte-aligned buffer (dense, row-major).
// Tensors are values: copying a Tensor shares its buffer. Kernels never write into their inputs,
// so sharing a buffer between Identity/Reshape outputs and their inputs is safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"

namespace idem {

using Shape = std::vector<int64_t>;

// Number of elements of a shape (1 for a scalar). Returns -1 on overflow or a negative dim.
int64_t NumElements(const Shape& shape);
std::string ShapeToString(const Shape& shape);  // "[2,3,4]"

// Raw storage. Strings are stored as constructed std::string objects.
class Buffer {
 public:
  // `zero`: zero-filled bytes. Otherwise the contents are unspecified — for a caller that writes
  // every element — except in poison mode (PoisonUninitialized) where every byte is 0xFF (NaN for
  // floats, -1 for integers), so that an element a kernel forgot to write shows in tests.
  // Strings are always constructed empty.
  // `huge_pages`: see AllocateAlignedBytes (for buffers that live as long as the model).
  static Result<std::shared_ptr<Buffer>> Allocate(DType dtype, int64_t count, bool zero = true,
                                                  bool huge_pages = false);
  // A buffer that views memory owned by someone else (kept alive by `owner`).
  static std::shared_ptr<Buffer> View(void* data, size_t bytes, std::shared_ptr<void> owner);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  Buffer() = default;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  DType dtype_ = DType::kUndefined;
  int64_t count_ = 0;
  bool owned_ = false;
  std::shared_ptr<void> owner_;
};

// Raw memory as tensors get it: 64-byte aligned, uninitialized; null on failure. With
// `huge_pages`, a buffer of 2 MiB or more is 2 MiB aligned and asked to be backed by transparent
// huge pages (madvise; a no-op where THP is off): fewer TLB misses when a GEMM walks megabytes of
// packed weights (5-8 % of a large GEMM's time on the Xeon VM). Only for memory that lives as long
// as the model — prepared weights: a freed huge page is faulted in and zeroed again by the kernel
// on the next allocation, which costs more than the misses it saves on per-run buffers.
void* AllocateAlignedBytes(size_t bytes, bool huge_pages = false);
struct AlignedFree {
  void operator()(void* p) const;
};
template <typename T>
using AlignedArray = std::unique_ptr<T[], AlignedFree>;
template <typename T>
AlignedArray<T> AllocateAlignedArray(size_t count, bool huge_pages = false) {
  return AlignedArray<T>(static_cast<T*>(AllocateAlignedBytes(count * sizeof(T), huge_pages)));
}

// Poison mode for uninitialized allocations: on when the environment variable
// IDEM_POISON_UNINITIALIZED is set to a non-empty value other than "0" (read once), or after
// SetPoisonUninitialized(true). Used by tests; never changes a correct kernel's results.
bool PoisonUninitialized();
void SetPoisonUninitialized(bool on);

class Tensor {
 public:
  Tensor() = default;  // an empty (undefined) tensor

  // Allocates a tensor (zero-initialized bytes; strings empty).
  static Result<Tensor> Create(DType dtype, Shape shape);
  // Allocates a tensor whose elements the caller will all write (see Buffer::Allocate's `zero`).
  static Result<Tensor> CreateUninitialized(DType dtype, Shape shape);
  // Like Create, for data that lives as long as the model (prepared weights): huge pages from
  // 2 MiB on (AllocateAlignedBytes).
  static Result<Tensor> CreateLongLived(DType dtype, Shape shape);
  // Create (zero) or CreateUninitialized (!zero); `huge_pages`: CreateLongLived.
  static Result<Tensor> Allocate(DType dtype, Shape shape, bool zero, bool huge_pages = false);
  // Like Create, for internal use where sizes are known to be valid; IDEM_CHECKs on failure.
  static Tensor Make(DType dtype, Shape shape);
  template <typename T>
  static Tensor FromVector(const std::vector<T>& values, Shape shape) {
    Tensor t = Make(DTypeOf<T>::value, std::move(shape));
    T* d = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) d[i] = values[i];
    return t;
  }
  template <typename T>
  static Tensor Scalar(T v) { return FromVector<T>({v}, {}); }

  bool defined() const { return dtype_ != DType::kUndefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * DTypeSize(dtype_); }

  void* raw() { return buffer_ ? static_cast<char*>(buffer_->data()) + offset_ : nullptr; }
  const void* raw() const { return buffer_ ? static_cast<const char*>(buffer_->data()) + offset_ : nullptr; }
  template <typename T> T* data() { return static_cast<T*>(raw()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw()); }
  template <typename T> std::span<const T> span() const { return {data<T>(), static_cast<size_t>(numel_)}; }

  // Same buffer, new shape with the same element count.
  Result<Tensor> Reshaped(Shape shape) const;
  // Deep copy (a new buffer).
  Tensor Clone() const;
  // Element i converted to int64 / double (any numeric or bool dtype).
  int64_t IntAt(int64_t i) const;
  double DoubleAt(int64_t i) const;
  // All elements as int64 (for shape-like inputs). Requires an integer dtype.
  std::vector<int64_t> ToInt64Vector() const;

  // Bitwise/element equality of dtype, shape and contents.
  bool Equals(const Tensor& other) const;

 private:
  DType dtype_ = DType::kUndefined;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<Buffer> buffer_;
  size_t offset_ = 0;
  friend Tensor MakeTensorView(DType, Shape, std::shared_ptr<Buffer>, size_t);
};

// A tensor over an existing buffer (used by the loader for zero-copy weights).
Tensor MakeTensorView(DType dtype, Shape shape, std::shared_ptr<Buffer> buffer, size_t offset);

}  // namespace idem
