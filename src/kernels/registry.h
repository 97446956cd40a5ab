// The op registry: every operator idem can run, from one list (kernels/ops.inc, an X-macro that
// includes one list per op family). No static-initializer registration.
#pragma once

#include <span>
#include <string>

#include "kernels/kernel.h"

namespace idem {

struct OpInfo {
  const char* domain;   // "" = ai.onnx
  const char* op_type;
  int min_opset;        // the model's opset for the domain must be in [min_opset, max_opset]
  int max_opset;
  KernelFn kernel;
};

// The entry for (domain, op_type) whose opset range contains `opset`, or nullptr.
const OpInfo* FindOp(const std::string& domain, const std::string& op_type, int opset);
// The entry for (domain, op_type) at any opset, or nullptr (for messages).
const OpInfo* FindOpAnyOpset(const std::string& domain, const std::string& op_type);
std::span<const OpInfo> AllOps();

// The load-time prepare function of (domain, op_type) (packing constant weights), or nullptr.
PrepareFn FindPrepare(const std::string& domain, const std::string& op_type);

// Domain spelled as ONNX does for messages: "ai.onnx" for "".
inline std::string DomainName(const std::string& d) { return d.empty() || d == "ai.onnx" ? "ai.onnx" : d; }

}  // namespace idem
