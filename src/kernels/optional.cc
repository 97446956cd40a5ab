// Optional kernels (ai.onnx opset 15): Optional, OptionalHasElement, OptionalGetElement.
// An empty optional is std::monostate in RtValue; a present one is the wrapped tensor or sequence
// itself (there is no separate "optional" box at run time).
#include <utility>

#include "kernels/kernel.h"

namespace idem::kernels {

// Optional(input?): wraps the input, or makes an empty optional of the `type` attribute.
Status Optional(KernelContext& ctx) {
  if (ctx.num_inputs() > 0 && ctx.has_input(0)) {
    ctx.SetOutput(0, ctx.input_value(0));
    return Status::Ok();
  }
  const bool input_named = ctx.num_inputs() > 0 && !ctx.node().inputs.empty() && ctx.node().inputs[0] >= 0;
  if (!input_named && !ctx.HasAttr("type"))
    return ctx.Error("attribute 'type' is required when there is no input");
  ctx.SetOutput(0, std::monostate{});
  return Status::Ok();
}

// OptionalHasElement(input?): true if the input is a present optional, a tensor or a sequence
// (opset 18 semantics accepted at 15-17 too); false for an empty optional or an omitted input.
Status OptionalHasElement(KernelContext& ctx) {
  const bool present = ctx.num_inputs() > 0 && ctx.has_input(0);
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kBool, {}));
  out->data<bool>()[0] = present;
  return Status::Ok();
}

// OptionalGetElement(input): the wrapped value; an error for an empty optional.
Status OptionalGetElement(KernelContext& ctx) {
  if (ctx.num_inputs() == 0 || !ctx.has_input(0)) return ctx.Error("input optional is empty (has no element)");
  ctx.SetOutput(0, ctx.input_value(0));
  return Status::Ok();
}

}  // namespace idem::kernels
