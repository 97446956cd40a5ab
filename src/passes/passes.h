// The individual graph passes of the optimizer (pipeline.h runs them in a fixed order). Each one
// rewrites the main graph in place and returns how many nodes it folded, removed, rewrote or fused
// (0 = nothing to do). They are deterministic (pipeline.h) and keep graph outputs' names.
//
// Arithmetic: every pass except FoldConvBatchNorm leaves each output bit unchanged. Folded
// constants are computed by the very kernel that would compute them at run time; fused ops
// (idem domain, kernels/fused.cc) perform the unfused ops' arithmetic in the same order.
// FoldConvBatchNorm scales the convolution weights, which changes rounding (documented there).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace idem::passes {

// ---- cleanups (opt level 1)

// Checks `--input-shape` against the graph inputs (the dims themselves are fixed at import, see
// onnx/import.h ImportOptions::input_shapes): every named input exists and has exactly the given
// static shape. A mismatch is an InvalidArgument naming the input.
Status CheckInputShapes(const Graph& g, const std::map<std::string, std::vector<int64_t>>& shapes);

// Evaluates nodes whose inputs are all constant by running their kernel (the same bits as at run
// time) and turns their outputs into initializers; Shape/Size of statically shaped values too.
// Never random ops, nodes with subgraphs, or outputs larger than kMaxFoldBytes.
inline constexpr int64_t kMaxFoldBytes = int64_t{64} << 20;
Result<int64_t> FoldConstants(Graph* g);

// Removes nodes none of whose outputs is read or is a graph output (random ops included: their
// results are unobservable), then unused initializers. Counts nodes and initializers removed.
Result<int64_t> EliminateDeadCode(Graph* g);

// Merges nodes with the same domain, op, opset, attributes and inputs (keeping the first in graph
// order) and identical small constants. Never random ops or nodes with subgraphs.
Result<int64_t> EliminateCommonSubexpressions(Graph* g);

// Removes Identity, inference Dropout (mask unused), Cast to the input's type, Reshape/Flatten/
// Expand whose output has the input's static shape, and Transpose with the identity permutation.
Result<int64_t> RemoveIdentities(Graph* g);

// Transpose∘Transpose -> one Transpose or nothing; Reshape∘Reshape -> one Reshape;
// Squeeze(Unsqueeze(x, a), a) and Unsqueeze(Squeeze(x, a), a) -> x.
Result<int64_t> CancelTransposeReshape(Graph* g);

// ---- fusions (opt level 2)

// Conv(X, W, B) -> BatchNormalization (inference, constant parameters) becomes one Conv with
// W' = W * s, B' = (B - mean) * s + beta, s = scale / sqrt(var + eps), computed in f32. This is
// the one pass that changes rounding: the product is no longer the same chain of operations.
Result<int64_t> FoldConvBatchNorm(Graph* g);

// LayerNormalization from its decomposed form (ReduceMean, Sub, Pow/Mul, ReduceMean, Add eps,
// Sqrt, Div, Mul gamma, Add beta) -> ONNX LayerNormalization (opset 17). The LayerNormalization
// kernel computes mean and variance in its own canonical order, so the result differs in rounding
// from the decomposed graph (compare within tolerance).
Result<int64_t> FuseLayerNorm(Graph* g);

// GELU, erf form x*0.5*(1+erf(x/sqrt2)) and tanh form 0.5*x*(1+tanh(c*(x+0.044715*x^3))), in the
// operand orders torch emits -> idem.Gelu with attributes that record the exact order (bitwise).
Result<int64_t> FuseGelu(Graph* g);

// MatMul(Q, Kt) -> Div/Mul by a constant -> optional Add mask or Where(cond, ., fill) ->
// Softmax(last axis) -> MatMul(., V) -> idem.Attention (bitwise).
Result<int64_t> FuseAttention(Graph* g);

// Conv / MatMul (constant 2-D f32 B) / Gemm, followed by an optional bias Add and an optional
// activation (Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, SiLU x*sigmoid(x), idem.Gelu)
// -> idem.FusedConv / idem.FusedMatMul (bitwise).
Result<int64_t> FuseBiasActivation(Graph* g);

}  // namespace idem::passes
