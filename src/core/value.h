// Run-time values: absent (an empty optional), a tensor, or a sequence of tensors.
#pragma once

#include <variant>
#include <vector>

#include "core/tensor.h"

namespace idem {

struct TensorSequence {
  DType elem = DType::kUndefined;
  std::vector<Tensor> items;
};

using RtValue = std::variant<std::monostate, Tensor, TensorSequence>;

inline bool IsTensor(const RtValue& v) { return std::holds_alternative<Tensor>(v); }
inline bool IsSequence(const RtValue& v) { return std::holds_alternative<TensorSequence>(v); }
inline bool IsNone(const RtValue& v) { return std::holds_alternative<std::monostate>(v); }

}  // namespace idem
