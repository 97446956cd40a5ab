// Control-flow kernels: If, Loop, Scan (ai.onnx) and SequenceMap, the ops that run a body graph
// through KernelContext::RunSubgraph. They move data only (slicing scan inputs, stacking scan
// outputs); no arithmetic happens here, so results are exact and thread-count independent.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "kernels/kernel.h"

namespace idem::kernels {
namespace {

// Copies `rows` runs of `run` elements from src (run r starts at src_off + r * src_stride) to dst
// (run r starts at dst_off + r * dst_stride). Offsets and strides are in elements.
void CopyRuns(DType dt, const void* src, int64_t src_off, int64_t src_stride, void* dst, int64_t dst_off,
              int64_t dst_stride, int64_t rows, int64_t run) {
  if (rows <= 0 || run <= 0) return;
  if (dt == DType::kString) {
    const auto* s = static_cast<const std::string*>(src);
    auto* d = static_cast<std::string*>(dst);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < run; ++i) d[dst_off + r * dst_stride + i] = s[src_off + r * src_stride + i];
    return;
  }
  const size_t es = DTypeSize(dt);
  const auto* s = static_cast<const char*>(src);
  auto* d = static_cast<char*>(dst);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(d + static_cast<size_t>(dst_off + r * dst_stride) * es,
                s + static_cast<size_t>(src_off + r * src_stride) * es, static_cast<size_t>(run) * es);
}

int64_t Product(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= s[i];
  return p;
}

// t indexed at `index` along `axis`: the sub-tensor of rank one less (a copy).
Result<Tensor> TakeAlongAxis(const Tensor& t, int64_t axis, int64_t index) {
  const size_t ax = static_cast<size_t>(axis);
  Shape shape = t.shape();
  const int64_t extent = shape[ax];
  shape.erase(shape.begin() + axis);
  IDEM_ASSIGN_OR_RETURN(Tensor out, Tensor::Create(t.dtype(), shape));
  const int64_t outer = Product(t.shape(), 0, ax);
  const int64_t inner = Product(t.shape(), ax + 1, t.shape().size());
  CopyRuns(t.dtype(), t.raw(), index * inner, extent * inner, out.raw(), 0, inner, outer, inner);
  return out;
}

// Stacks equally shaped tensors along a new axis `axis` (in [0, rank]); `elems[p]` goes to
// position p. `dtype`/`elem_shape` describe the elements (used when `elems` is empty).
Result<Tensor> StackAlongAxis(const std::vector<Tensor>& elems, DType dtype, const Shape& elem_shape, int64_t axis) {
  const size_t ax = static_cast<size_t>(axis);
  Shape shape = elem_shape;
  shape.insert(shape.begin() + axis, static_cast<int64_t>(elems.size()));
  IDEM_ASSIGN_OR_RETURN(Tensor out, Tensor::Create(dtype, shape));
  const int64_t outer = Product(elem_shape, 0, ax);
  const int64_t inner = Product(elem_shape, ax, elem_shape.size());
  const int64_t count = static_cast<int64_t>(elems.size());
  for (int64_t p = 0; p < count; ++p)
    CopyRuns(dtype, elems[static_cast<size_t>(p)].raw(), 0, inner, out.raw(), p * inner, count * inner, outer, inner);
  return out;
}

const Graph* GraphAttr(const KernelContext& ctx, const char* name, Status* st) {
  auto a = ctx.RequiredAttr(name, Attribute::Kind::kGraph);
  if (!a.ok()) { *st = a.status(); return nullptr; }
  if (!(*a)->g) { *st = ctx.Error("attribute '", name, "' holds no graph"); return nullptr; }
  return (*a)->g.get();
}

Result<std::vector<RtValue>> RunBody(const KernelContext& ctx, const Graph& body, std::vector<RtValue> inputs,
                                     const std::string& where) {
  if (inputs.size() != body.inputs.size())
    return InvalidModel(ctx.node().Describe(), ": ", where, " takes ", body.inputs.size(), " inputs but ",
                        inputs.size(), " are bound to it");
  auto r = ctx.RunSubgraph(body, std::move(inputs));
  if (!r.ok()) return r.status().WithContext(StrCat(ctx.node().Describe(), ", ", where));
  if (r->size() != body.outputs.size())
    return Internal(ctx.node().Describe(), ": ", where, " returned ", r->size(), " values for ", body.outputs.size(),
                    " outputs");
  return r;
}

// The single boolean of a condition tensor.
Result<bool> ReadCondition(const KernelContext& ctx, const RtValue& v, const char* what) {
  if (!IsTensor(v)) return ctx.Error(what, " must be a tensor");
  const Tensor& t = std::get<Tensor>(v);
  if (t.dtype() != DType::kBool) return ctx.Error(what, " must be of type bool, got ", DTypeOnnxName(t.dtype()));
  if (t.numel() != 1) return ctx.Error(what, " must hold exactly one element, got shape ", ShapeToString(t.shape()));
  return t.data<bool>()[0];
}

// Static element type and shape of body output k, for scan outputs of a loop that ran zero
// times: the declared type (f32 if unknown); without a fully known shape, no element dims.
void BodyOutputType(const Graph& body, size_t k, DType* dtype, Shape* shape) {
  const ValueType& t = body.values[static_cast<size_t>(body.outputs[k])].type;
  *dtype = t.elem == DType::kUndefined ? DType::kF32 : t.elem;
  shape->clear();
  if (t.kind != ValueType::Kind::kTensor || !t.has_shape) return;
  for (const Dim& d : t.dims) {
    if (d.value < 0) { shape->clear(); return; }
    shape->push_back(d.value);
  }
}

// Checks that scan-output element `v` of iteration `iter` is a tensor shaped like the first one.
Status CheckScanElement(const KernelContext& ctx, const RtValue& v, const std::vector<Tensor>& prev, size_t k,
                        int64_t iter) {
  if (!IsTensor(v)) return ctx.Error("scan output ", k, " of the body must be a tensor (iteration ", iter, ")");
  const Tensor& t = std::get<Tensor>(v);
  if (!prev.empty() && (prev[0].dtype() != t.dtype() || prev[0].shape() != t.shape()))
    return ctx.Error("scan output ", k, " changes from ", DTypeOnnxName(prev[0].dtype()), ShapeToString(prev[0].shape()),
                     " to ", DTypeOnnxName(t.dtype()), ShapeToString(t.shape()), " at iteration ", iter,
                     "; every iteration must produce the same shape");
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// If (opsets 1, 11, 13, 16): runs then_branch or else_branch; their outputs are the node's.

Status If(KernelContext& ctx) {
  if (!ctx.has_input(0)) return ctx.Error("required input 'cond' is missing");
  IDEM_ASSIGN_OR_RETURN(bool cond, ReadCondition(ctx, ctx.input_value(0), "input 'cond'"));
  const char* branch = cond ? "then_branch" : "else_branch";
  Status st;
  const Graph* body = GraphAttr(ctx, branch, &st);
  if (!body) return st;
  IDEM_ASSIGN_OR_RETURN(std::vector<RtValue> outs, RunBody(ctx, *body, {}, branch));
  if (outs.size() != ctx.num_outputs())
    return ctx.Error(branch, " has ", outs.size(), " outputs but the node has ", ctx.num_outputs());
  for (size_t i = 0; i < outs.size(); ++i) ctx.SetOutput(i, std::move(outs[i]));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Loop (opsets 1, 11, 13, 16): inputs (M?, cond?, v_initial...), body (iter, cond, v...) ->
// (cond, v..., scan...). Outputs: final v..., then scan outputs stacked along a new first axis.

Status Loop(KernelContext& ctx) {
  Status st;
  const Graph* body = GraphAttr(ctx, "body", &st);
  if (!body) return st;
  if (ctx.num_inputs() < 2) return ctx.Error("expects at least 2 inputs (M and cond, each may be empty)");
  const size_t num_carried = ctx.num_inputs() - 2;
  if (body->inputs.size() != num_carried + 2)
    return InvalidModel(ctx.node().Describe(), ": body takes ", body->inputs.size(), " inputs but the node carries ",
                        num_carried, " loop values (body must take 2 + ", num_carried, ")");
  if (body->outputs.size() < num_carried + 1)
    return InvalidModel(ctx.node().Describe(), ": body returns ", body->outputs.size(), " values, fewer than 1 + ",
                        num_carried, " loop-carried values");
  const size_t num_scan = body->outputs.size() - 1 - num_carried;
  if (ctx.num_outputs() != num_carried + num_scan)
    return InvalidModel(ctx.node().Describe(), ": has ", ctx.num_outputs(), " outputs but the body yields ", num_carried,
                        " loop-carried values and ", num_scan, " scan outputs");

  int64_t max_trips = std::numeric_limits<int64_t>::max();
  if (ctx.has_input(0)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* m, ctx.InputTensor(0));
    if (m->dtype() != DType::kI64 && m->dtype() != DType::kI32)
      return ctx.Error("input 'M' must be of type int64, got ", DTypeOnnxName(m->dtype()));
    if (m->numel() != 1) return ctx.Error("input 'M' must hold exactly one element, got shape ", ShapeToString(m->shape()));
    max_trips = m->IntAt(0);
  }
  const bool has_cond = ctx.has_input(1);
  bool cond = true;
  if (has_cond) {
    IDEM_ASSIGN_OR_RETURN(cond, ReadCondition(ctx, ctx.input_value(1), "input 'cond'"));
  }

  std::vector<RtValue> carried(num_carried);
  for (size_t i = 0; i < num_carried; ++i)
    if (ctx.num_inputs() > i + 2 && ctx.node().inputs[i + 2] >= 0) carried[i] = ctx.input_value(i + 2);
  std::vector<std::vector<Tensor>> scans(num_scan);

  int64_t iter = 0;
  for (; iter < max_trips && cond; ++iter) {
    std::vector<RtValue> in;
    in.reserve(num_carried + 2);
    in.emplace_back(Tensor::Scalar<int64_t>(iter));
    in.emplace_back(Tensor::Scalar<bool>(cond));
    for (RtValue& v : carried) in.push_back(std::move(v));
    IDEM_ASSIGN_OR_RETURN(std::vector<RtValue> out, RunBody(ctx, *body, std::move(in), "body"));
    // The body's condition output is ignored in the "for" form (M given, no 'cond' input) as the
    // spec says; with neither M nor cond it ends the loop (else the loop could never end).
    if (has_cond || !ctx.has_input(0)) {
      IDEM_ASSIGN_OR_RETURN(cond, ReadCondition(ctx, out[0], "the body's condition output"));
    }
    for (size_t i = 0; i < num_carried; ++i) carried[i] = std::move(out[1 + i]);
    for (size_t k = 0; k < num_scan; ++k) {
      RtValue& v = out[1 + num_carried + k];
      IDEM_RETURN_IF_ERROR(CheckScanElement(ctx, v, scans[k], k, iter));
      scans[k].push_back(std::get<Tensor>(std::move(v)));
    }
  }

  for (size_t i = 0; i < num_carried; ++i) ctx.SetOutput(i, std::move(carried[i]));
  for (size_t k = 0; k < num_scan; ++k) {
    DType dtype;
    Shape elem_shape;
    if (!scans[k].empty()) {
      dtype = scans[k][0].dtype();
      elem_shape = scans[k][0].shape();
    } else {
      BodyOutputType(*body, 1 + num_carried + k, &dtype, &elem_shape);
    }
    IDEM_ASSIGN_OR_RETURN(Tensor stacked, StackAlongAxis(scans[k], dtype, elem_shape, 0));
    ctx.SetOutput(num_carried + k, std::move(stacked));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Scan. Opset 8: inputs (sequence_lens?, states..., scans...) with batch axis 0 and sequence axis
// 1, attribute `directions`. Opsets 9+: inputs (states..., scans...), attributes
// scan_input_axes/directions and scan_output_axes/directions, no batch axis.

namespace {

Status ReadScanCounts(const KernelContext& ctx, const Graph& body, size_t first_state, size_t* num_states,
                      size_t* num_scan_in, size_t* num_scan_out) {
  IDEM_ASSIGN_OR_RETURN(int64_t m, ctx.RequiredInt("num_scan_inputs"));
  const size_t avail = ctx.num_inputs() - first_state;
  if (m < 1 || static_cast<size_t>(m) > avail)
    return ctx.Error("num_scan_inputs is ", m, " but the node has ", avail, " state and scan inputs");
  *num_scan_in = static_cast<size_t>(m);
  *num_states = avail - *num_scan_in;
  if (ctx.num_outputs() < *num_states)
    return ctx.Error("has ", ctx.num_outputs(), " outputs, fewer than its ", *num_states, " state variables");
  *num_scan_out = ctx.num_outputs() - *num_states;
  if (body.inputs.size() != *num_states + *num_scan_in)
    return InvalidModel(ctx.node().Describe(), ": body takes ", body.inputs.size(), " inputs but the node binds ",
                        *num_states, " states and ", *num_scan_in, " scan inputs");
  if (body.outputs.size() != *num_states + *num_scan_out)
    return InvalidModel(ctx.node().Describe(), ": body returns ", body.outputs.size(), " values but the node has ",
                        ctx.num_outputs(), " outputs");
  for (size_t i = first_state; i < ctx.num_inputs(); ++i)
    if (!ctx.has_input(i) || !IsTensor(ctx.input_value(i)))
      return ctx.Error("input ", i, " must be a tensor (state and scan inputs are required)");
  return Status::Ok();
}

Result<std::vector<int64_t>> ReadFlags(const KernelContext& ctx, const char* name, size_t count) {
  std::vector<int64_t> v = ctx.Ints(name, std::vector<int64_t>(count, 0));
  if (v.size() != count) return ctx.Error("attribute '", name, "' has ", v.size(), " entries, expected ", count);
  for (int64_t d : v)
    if (d != 0 && d != 1) return ctx.Error("attribute '", name, "' entries must be 0 or 1, got ", d);
  return v;
}

Status Scan8(KernelContext& ctx, const Graph& body) {
  size_t ns, nm, nk;
  IDEM_RETURN_IF_ERROR(ReadScanCounts(ctx, body, 1, &ns, &nm, &nk));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> directions, ReadFlags(ctx, "directions", nm));
  const Tensor& first = ctx.input(1 + ns);
  if (first.rank() < 2) return ctx.Error("scan input 0 must have rank >= 2 ([batch, sequence, ...]), got ",
                                         ShapeToString(first.shape()));
  const int64_t batch = first.dim(0);
  const int64_t max_len = first.dim(1);
  for (size_t m = 0; m < nm; ++m) {
    const Tensor& t = ctx.input(1 + ns + m);
    if (t.rank() < 2 || t.dim(0) != batch || t.dim(1) != max_len)
      return ctx.Error("scan input ", m, " has shape ", ShapeToString(t.shape()), "; all scan inputs must be [",
                       batch, ", ", max_len, ", ...]");
  }
  for (size_t s = 0; s < ns; ++s) {
    const Tensor& t = ctx.input(1 + s);
    if (t.rank() < 1 || t.dim(0) != batch)
      return ctx.Error("initial state ", s, " has shape ", ShapeToString(t.shape()), "; its first axis must be the batch (",
                       batch, ")");
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), max_len);
  if (ctx.has_input(0)) {
    IDEM_ASSIGN_OR_RETURN(const Tensor* sl, ctx.InputTensor(0));
    if (!IsInt(sl->dtype()) || sl->numel() != batch)
      return ctx.Error("sequence_lens must be an integer tensor of ", batch, " elements, got ",
                       DTypeOnnxName(sl->dtype()), ShapeToString(sl->shape()));
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t l = sl->IntAt(b);
      if (l < 0 || l > max_len)
        return ctx.Error("sequence_lens[", b, "] = ", l, " is outside [0, ", max_len, "]");
      lens[static_cast<size_t>(b)] = l;
    }
  }

  // Per batch entry: final states, and the scan-output elements of each iteration.
  std::vector<std::vector<Tensor>> final_states(ns);
  std::vector<std::vector<std::vector<Tensor>>> scan_elems(nk, std::vector<std::vector<Tensor>>(static_cast<size_t>(batch)));
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<RtValue> states(ns);
    for (size_t s = 0; s < ns; ++s) {
      IDEM_ASSIGN_OR_RETURN(Tensor st, TakeAlongAxis(ctx.input(1 + s), 0, b));
      states[s] = std::move(st);
    }
    std::vector<Tensor> seqs(nm);
    for (size_t m = 0; m < nm; ++m) {
      IDEM_ASSIGN_OR_RETURN(seqs[m], TakeAlongAxis(ctx.input(1 + ns + m), 0, b));
    }
    const int64_t len = lens[static_cast<size_t>(b)];
    for (int64_t t = 0; t < len; ++t) {
      std::vector<RtValue> in;
      for (RtValue& v : states) in.push_back(std::move(v));
      for (size_t m = 0; m < nm; ++m) {
        const int64_t pos = directions[m] ? len - 1 - t : t;
        IDEM_ASSIGN_OR_RETURN(Tensor e, TakeAlongAxis(seqs[m], 0, pos));
        in.emplace_back(std::move(e));
      }
      IDEM_ASSIGN_OR_RETURN(std::vector<RtValue> out, RunBody(ctx, body, std::move(in), "body"));
      for (size_t s = 0; s < ns; ++s) states[s] = std::move(out[s]);
      for (size_t k = 0; k < nk; ++k) {
        std::vector<Tensor>& got = scan_elems[k][static_cast<size_t>(b)];
        // Compare against the first element seen in any batch entry.
        const std::vector<Tensor>* ref = &got;
        for (const auto& per_b : scan_elems[k])
          if (!per_b.empty()) { ref = &per_b; break; }
        IDEM_RETURN_IF_ERROR(CheckScanElement(ctx, out[ns + k], *ref, k, t));
        got.push_back(std::get<Tensor>(std::move(out[ns + k])));
      }
    }
    for (size_t s = 0; s < ns; ++s) {
      if (!IsTensor(states[s])) return ctx.Error("state ", s, " of the body must be a tensor");
      final_states[s].push_back(std::get<Tensor>(std::move(states[s])));
    }
  }

  for (size_t s = 0; s < ns; ++s) {
    const Tensor& init = ctx.input(1 + s);
    Shape elem_shape(init.shape().begin() + 1, init.shape().end());
    DType dtype = init.dtype();
    if (!final_states[s].empty()) {
      dtype = final_states[s][0].dtype();
      elem_shape = final_states[s][0].shape();
    }
    for (const Tensor& t : final_states[s])
      if (t.dtype() != dtype || t.shape() != elem_shape)
        return ctx.Error("final state ", s, " differs in type or shape between batch entries");
    IDEM_ASSIGN_OR_RETURN(Tensor out, StackAlongAxis(final_states[s], dtype, elem_shape, 0));
    ctx.SetOutput(s, std::move(out));
  }
  for (size_t k = 0; k < nk; ++k) {
    DType dtype;
    Shape elem_shape;
    const Tensor* sample = nullptr;
    for (const auto& per_b : scan_elems[k])
      if (!per_b.empty()) { sample = &per_b[0]; break; }
    if (sample) {
      dtype = sample->dtype();
      elem_shape = sample->shape();
    } else {
      BodyOutputType(body, ns + k, &dtype, &elem_shape);
    }
    Shape shape = elem_shape;
    shape.insert(shape.begin(), {batch, max_len});
    IDEM_ASSIGN_OR_RETURN(Tensor out, Tensor::Create(dtype, shape));
    const int64_t inner = Product(elem_shape, 0, elem_shape.size());
    // Positions past a batch entry's sequence length stay zero (the spec leaves them undefined).
    for (int64_t b = 0; b < batch; ++b) {
      const auto& elems = scan_elems[k][static_cast<size_t>(b)];
      for (size_t t = 0; t < elems.size(); ++t)
        CopyRuns(dtype, elems[t].raw(), 0, inner, out.raw(), (b * max_len + static_cast<int64_t>(t)) * inner, inner, 1,
                 inner);
    }
    ctx.SetOutput(ns + k, std::move(out));
  }
  return Status::Ok();
}

Status Scan9(KernelContext& ctx, const Graph& body) {
  size_t ns, nm, nk;
  IDEM_RETURN_IF_ERROR(ReadScanCounts(ctx, body, 0, &ns, &nm, &nk));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> in_dirs, ReadFlags(ctx, "scan_input_directions", nm));
  IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> out_dirs, ReadFlags(ctx, "scan_output_directions", nk));
  std::vector<int64_t> in_axes = ctx.Ints("scan_input_axes", std::vector<int64_t>(nm, 0));
  std::vector<int64_t> out_axes = ctx.Ints("scan_output_axes", std::vector<int64_t>(nk, 0));
  if (in_axes.size() != nm)
    return ctx.Error("attribute 'scan_input_axes' has ", in_axes.size(), " entries, expected ", nm);
  if (out_axes.size() != nk)
    return ctx.Error("attribute 'scan_output_axes' has ", out_axes.size(), " entries, expected ", nk);

  int64_t len = -1;
  for (size_t m = 0; m < nm; ++m) {
    const Tensor& t = ctx.input(ns + m);
    const int64_t r = t.rank();
    int64_t& a = in_axes[m];
    if (a < -r || a >= r)
      return ctx.Error("scan_input_axes[", m, "] = ", a, " is out of range for scan input of rank ", r);
    if (a < 0) a += r;
    const int64_t l = t.dim(a);
    if (len >= 0 && l != len)
      return ctx.Error("scan input ", m, " has length ", l, " along its scan axis but scan input 0 has ", len);
    len = l;
  }

  std::vector<RtValue> states(ns);
  for (size_t s = 0; s < ns; ++s) states[s] = ctx.input_value(s);
  std::vector<std::vector<Tensor>> elems(nk);
  for (int64_t t = 0; t < len; ++t) {
    std::vector<RtValue> in;
    for (RtValue& v : states) in.push_back(std::move(v));
    for (size_t m = 0; m < nm; ++m) {
      const int64_t pos = in_dirs[m] ? len - 1 - t : t;
      IDEM_ASSIGN_OR_RETURN(Tensor e, TakeAlongAxis(ctx.input(ns + m), in_axes[m], pos));
      in.emplace_back(std::move(e));
    }
    IDEM_ASSIGN_OR_RETURN(std::vector<RtValue> out, RunBody(ctx, body, std::move(in), "body"));
    for (size_t s = 0; s < ns; ++s) states[s] = std::move(out[s]);
    for (size_t k = 0; k < nk; ++k) {
      IDEM_RETURN_IF_ERROR(CheckScanElement(ctx, out[ns + k], elems[k], k, t));
      elems[k].push_back(std::get<Tensor>(std::move(out[ns + k])));
    }
  }

  for (size_t s = 0; s < ns; ++s) ctx.SetOutput(s, std::move(states[s]));
  for (size_t k = 0; k < nk; ++k) {
    DType dtype;
    Shape elem_shape;
    if (!elems[k].empty()) {
      dtype = elems[k][0].dtype();
      elem_shape = elems[k][0].shape();
    } else {
      BodyOutputType(body, ns + k, &dtype, &elem_shape);
    }
    const int64_t r = static_cast<int64_t>(elem_shape.size()) + 1;
    int64_t axis = out_axes[k];
    if (axis < -r || axis >= r)
      return ctx.Error("scan_output_axes[", k, "] = ", axis, " is out of range for scan output of rank ", r);
    if (axis < 0) axis += r;
    if (out_dirs[k]) std::reverse(elems[k].begin(), elems[k].end());
    IDEM_ASSIGN_OR_RETURN(Tensor out, StackAlongAxis(elems[k], dtype, elem_shape, axis));
    ctx.SetOutput(ns + k, std::move(out));
  }
  return Status::Ok();
}

}  // namespace

Status Scan(KernelContext& ctx) {
  Status st;
  const Graph* body = GraphAttr(ctx, "body", &st);
  if (!body) return st;
  return ctx.opset() < 9 ? Scan8(ctx, *body) : Scan9(ctx, *body);
}

// ---------------------------------------------------------------------------------------------
// SequenceMap (opset 17): applies the body to each element of input_sequence; additional inputs
// are sequences (iterated in lockstep, same length required) or tensors (passed unchanged).

Status SequenceMap(KernelContext& ctx) {
  Status st;
  const Graph* body = GraphAttr(ctx, "body", &st);
  if (!body) return st;
  if (ctx.num_inputs() < 1 || !ctx.has_input(0) || !IsSequence(ctx.input_value(0)))
    return ctx.Error("input 'input_sequence' must be a sequence");
  const size_t n = std::get<TensorSequence>(ctx.input_value(0)).items.size();
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.Error("additional input ", i, " is missing");
    const RtValue& v = ctx.input_value(i);
    if (IsSequence(v) && std::get<TensorSequence>(v).items.size() != n)
      return ctx.Error("sequence input ", i, " has ", std::get<TensorSequence>(v).items.size(),
                       " elements but input_sequence has ", n);
  }
  if (body->inputs.size() != ctx.num_inputs())
    return InvalidModel(ctx.node().Describe(), ": body takes ", body->inputs.size(), " inputs but the node has ",
                        ctx.num_inputs());
  if (body->outputs.size() != ctx.num_outputs())
    return InvalidModel(ctx.node().Describe(), ": body returns ", body->outputs.size(), " values but the node has ",
                        ctx.num_outputs(), " outputs");
  std::vector<TensorSequence> outs(ctx.num_outputs());
  for (size_t k = 0; k < outs.size(); ++k) {
    DType dtype;
    Shape shape;
    BodyOutputType(*body, k, &dtype, &shape);
    outs[k].elem = dtype;
  }
  for (size_t e = 0; e < n; ++e) {
    std::vector<RtValue> in;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) {
      const RtValue& v = ctx.input_value(i);
      if (IsSequence(v)) in.emplace_back(std::get<TensorSequence>(v).items[e]);
      else in.push_back(v);
    }
    IDEM_ASSIGN_OR_RETURN(std::vector<RtValue> out, RunBody(ctx, *body, std::move(in), "body"));
    for (size_t k = 0; k < outs.size(); ++k) {
      if (!IsTensor(out[k])) return ctx.Error("body output ", k, " must be a tensor (element ", e, ")");
      Tensor t = std::get<Tensor>(std::move(out[k]));
      if (e == 0) outs[k].elem = t.dtype();
      else if (t.dtype() != outs[k].elem)
        return ctx.Error("body output ", k, " changes type from ", DTypeOnnxName(outs[k].elem), " to ",
                         DTypeOnnxName(t.dtype()), " at element ", e);
      outs[k].items.push_back(std::move(t));
    }
  }
  for (size_t k = 0; k < outs.size(); ++k) ctx.SetOutput(k, std::move(outs[k]));
  return Status::Ok();
}

}  // namespace idem::kernels
