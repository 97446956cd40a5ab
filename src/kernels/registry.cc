#include "kernels/registry.h"

#include <vector>

namespace idem {
namespace kernels {
#define IDEM_OP(domain, op_type, min_opset, max_opset, fn) Status fn(KernelContext&);
#include "kernels/ops.inc"
#undef IDEM_OP
#define IDEM_PREPARE(domain, op_type, fn) Result<std::shared_ptr<const PreparedState>> fn(const PrepareContext&);
#include "kernels/prepare.inc"
#undef IDEM_PREPARE
}  // namespace kernels

namespace {
constexpr OpInfo kOps[] = {
#define IDEM_OP(domain, op_type, min_opset, max_opset, fn) {domain, op_type, min_opset, max_opset, &kernels::fn},
#include "kernels/ops.inc"
#undef IDEM_OP
    {nullptr, nullptr, 0, 0, nullptr},  // sentinel: keeps the array non-empty
};
constexpr size_t kNumOps = sizeof(kOps) / sizeof(kOps[0]) - 1;

struct PrepareInfo {
  const char* domain;
  const char* op_type;
  PrepareFn fn;
};
constexpr PrepareInfo kPrepares[] = {
#define IDEM_PREPARE(domain, op_type, fn) {domain, op_type, &kernels::fn},
#include "kernels/prepare.inc"
#undef IDEM_PREPARE
};

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

PrepareFn FindPrepare(const std::string& domain, const std::string& op_type) {
  for (const PrepareInfo& p : kPrepares)
    if (p.op_type == op_type && SameDomain(p.domain, domain)) return p.fn;
  return nullptr;
}

}  // namespace idem
