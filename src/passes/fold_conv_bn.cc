// Conv + BatchNormalization (inference) -> Conv with scaled weights and a new bias:
//   s[c] = scale[c] / sqrt(var[c] + eps);  W'[c, ...] = W[c, ...] * s[c];
//   B'[c] = (B[c] - mean[c]) * s[c] + beta[c]   (B = 0 when the Conv has none), all in f32.
// This changes rounding (the BN affine map is no longer applied after the convolution chain),
// so results match the unfolded graph within a tolerance, not bitwise.
#include <cmath>
#include <vector>

#include "passes/graph_util.h"
#include "passes/passes.h"

namespace idem::passes {

Result<int64_t> FoldConvBatchNorm(Graph* g) {
  const Uses u = ComputeUses(*g);
  Rewriter rw(g);
  std::vector<bool> taken(g->nodes.size(), false);
  int64_t folded = 0;
  for (const Node& bn : g->nodes) {
    if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.opset < 9 || bn.inputs.size() != 5) continue;
    if (const Attribute* t = bn.FindAttribute("training_mode"); t && t->i != 0) continue;
    bool extra_outputs = false;
    for (size_t k = 1; k < bn.outputs.size(); ++k) extra_outputs = extra_outputs || bn.outputs[k] >= 0;
    if (extra_outputs) continue;
    const Node* conv = SoleProducer(*g, u, bn.inputs[0], "Conv", taken);
    if (conv == nullptr || conv->outputs.size() != 1) continue;
    const Tensor* W = ConstantData(*g, conv->inputs[1]);
    if (W == nullptr || W->dtype() != DType::kF32 || W->rank() < 3) continue;
    const int64_t C = W->dim(0);
    const Tensor* B = conv->inputs.size() > 2 && conv->inputs[2] >= 0 ? ConstantData(*g, conv->inputs[2]) : nullptr;
    if (conv->inputs.size() > 2 && conv->inputs[2] >= 0 && (B == nullptr || B->dtype() != DType::kF32 || B->numel() != C))
      continue;
    const Tensor* p[4];
    bool ok = true;
    for (int k = 0; k < 4; ++k) {
      p[k] = ConstantData(*g, bn.inputs[static_cast<size_t>(k) + 1]);
      ok = ok && p[k] != nullptr && p[k]->dtype() == DType::kF32 && p[k]->numel() == C;
    }
    if (!ok) continue;
    const Attribute* eps_attr = bn.FindAttribute("epsilon");
    const float eps = eps_attr ? eps_attr->f : 1e-5f;
    const float* scale = p[0]->data<float>();
    const float* beta = p[1]->data<float>();
    const float* mean = p[2]->data<float>();
    const float* var = p[3]->data<float>();
    Tensor w2 = Tensor::Make(DType::kF32, W->shape());
    Tensor b2 = Tensor::Make(DType::kF32, Shape{C});
    const int64_t per = W->numel() / std::max<int64_t>(C, 1);
    for (int64_t c = 0; c < C; ++c) {
      const float s = scale[c] / std::sqrt(var[c] + eps);
      for (int64_t j = 0; j < per; ++j) w2.data<float>()[c * per + j] = W->data<float>()[c * per + j] * s;
      const float b = B ? B->data<float>()[c] : 0.0f;
      b2.data<float>()[c] = (b - mean[c]) * s + beta[c];
    }
    const std::string base = g->values[static_cast<size_t>(conv->inputs[1])].name;
    Node folded_conv = *conv;
    const int wv = rw.AddConstant(base + "_bn", std::move(w2));
    const int bv = rw.AddConstant(base + "_bn_bias", std::move(b2));
    folded_conv.inputs = {conv->inputs[0], wv, bv};
    folded_conv.outputs = {bn.outputs[0]};
    folded_conv.provenance = MergeProvenance(*g, {conv->index, bn.index});
    taken[static_cast<size_t>(conv->index)] = taken[static_cast<size_t>(bn.index)] = true;
    rw.Remove(conv->index);
    rw.Remove(bn.index);
    rw.InsertAt(bn.index, std::move(folded_conv));
    ++folded;
  }
  if (folded == 0) return int64_t{0};
  IDEM_RETURN_IF_ERROR(rw.Commit());
  return folded;
}

}  // namespace idem::passes
