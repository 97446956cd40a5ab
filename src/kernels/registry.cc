#include "kernels/registry.h"

#include <vector>

namespace idem {
namespace kernels {
// Declared weak so that the tree links while op families are under construction; a unit test
// (registry_test) asserts that every listed op has its kernel defined.
#define IDEM_OP(domain, op_type, min_opset, max_opset, fn) Status fn(KernelContext&) __attribute__((weak));
#include "kernels/ops.inc"
#undef IDEM_OP
}  // namespace kernels

namespace {
constexpr OpInfo kOps[] = {
#define IDEM_OP(domain, op_type, min_opset, max_opset, fn) {domain, op_type, min_opset, max_opset, &kernels::fn},
#include "kernels/ops.inc"
#undef IDEM_OP
    {nullptr, nullptr, 0, 0, nullptr},  // sentinel: keeps the array non-empty
};
constexpr size_t kNumOps = sizeof(kOps) / sizeof(kOps[0]) - 1;

bool SameDomain(const char* a, const std::string& b) {
  const std::string da(a);
  auto norm = [](const std::string& d) { return d == "ai.onnx" ? std::string() : d; };
  return norm(da) == norm(b);
}
}  // namespace

const OpInfo* FindOp(const std::string& domain, const std::string& op_type, int opset) {
  for (const OpInfo& op : AllOps())
    if (op.kernel != nullptr && op.op_type == op_type && SameDomain(op.domain, domain) && opset >= op.min_opset &&
        opset <= op.max_opset)
      return &op;
  return nullptr;
}

const OpInfo* FindOpAnyOpset(const std::string& domain, const std::string& op_type) {
  for (const OpInfo& op : AllOps())
    if (op.kernel != nullptr && op.op_type == op_type && SameDomain(op.domain, domain)) return &op;
  return nullptr;
}

std::span<const OpInfo> AllOps() { return {kOps, kNumOps}; }

}  // namespace idem
