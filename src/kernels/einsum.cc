// Einsum (opset 12+): general equations — explicit or implicit output, ellipsis with broadcasting,
// repeated indices (diagonals) inside one operand, any number of operands.
//
// Canonical order (DESIGN.md R1): the labels that do not appear in the output ("reduction labels")
// are ordered by first appearance in the equation (ellipsis dimensions in their broadcast order at
// the place of the first "..."), and their index space is walked in row-major order, r = 0..R-1.
// For each output element:
//   - no reduction labels: the product of the operands' elements, left to right;
//   - one operand: CanonicalSum over r of x(r);
//   - two operands: ChainDot over r: acc = fma(a(r), b(r), acc) from +0 (so "ij,jk->ik" is
//     bitwise MatMul);
//   - n > 2 operands: ChainDot over r of (x1(r) * ... * x(n-1)(r)) [left to right] and xn(r).
// Integer types compute exactly with two's-complement wrap-around; f16/bf16 compute in f32 and
// round once when stored.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "kernels/canonical.h"
#include "kernels/kernel.h"
#include "kernels/util.h"

namespace idem::kernels {
namespace {

constexpr int kLetterLabels = 52;  // a-z, A-Z; ellipsis dimension j gets label kLetterLabels + j

int LetterLabel(char c) {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= 'A' && c <= 'Z') return 26 + (c - 'A');
  return -1;
}
// ASCII order of a letter label (implicit output is sorted like numpy: 'A'..'Z' before 'a'..'z').
int AsciiOf(int label) { return label < 26 ? 'a' + label : 'A' + (label - 26); }

// One parsed term: letter labels with the position of "..." (-1 if none).
struct Term {
  std::vector<int> letters;
  int ellipsis_at = -1;  // index into `letters` before which the ellipsis dims go
};

Result<Term> ParseTerm(const KernelContext& ctx, const std::string& s, const std::string& equation) {
  Term t;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '.') {
      if (s.compare(i, 3, "...") != 0 || t.ellipsis_at >= 0)
        return ctx.Error("equation '", equation, "': malformed or repeated ellipsis in term '", s, "'");
      t.ellipsis_at = static_cast<int>(t.letters.size());
      i += 3;
      continue;
    }
    const int l = LetterLabel(s[i]);
    if (l < 0) return ctx.Error("equation '", equation, "': invalid character '", s[i], "' (labels are letters)");
    t.letters.push_back(l);
    ++i;
  }
  return t;
}

// Integer types multiply/add in unsigned arithmetic (defined wrap-around).
template <typename C>
inline C Mul(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    return a * b;
  } else {
    using U = std::conditional_t<(sizeof(C) < 4), uint32_t, std::make_unsigned_t<C>>;
    return static_cast<C>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  }
}
template <typename C>
inline C Add(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    return a + b;
  } else {
    using U = std::conditional_t<(sizeof(C) < 4), uint32_t, std::make_unsigned_t<C>>;
    return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  }
}

struct EinsumPlan {
  std::vector<int64_t> out_sizes;                  // output dims
  std::vector<int64_t> red_sizes;                  // reduction dims, canonical order
  std::vector<std::vector<int64_t>> out_strides;   // [operand][output dim]
  std::vector<std::vector<int64_t>> red_strides;   // [operand][reduction dim]
  int64_t red_count = 1;
};

template <typename T>
Status RunEinsum(KernelContext& ctx, const std::vector<const Tensor*>& xs, const EinsumPlan& p, Tensor* Y) {
  using C = ComputeT<T>;
  const size_t n_ops = xs.size();
  std::vector<const T*> data(n_ops);
  for (size_t i = 0; i < n_ops; ++i) data[i] = xs[i]->data<T>();
  T* y = Y->data<T>();
  const int64_t out_count = Y->numel();
  const size_t out_rank = p.out_sizes.size();
  const size_t red_rank = p.red_sizes.size();
  const int64_t grain = std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(p.red_count, 1));
  ctx.ParallelFor(out_count, grain, [&](int64_t o0, int64_t o1) {
    std::vector<int64_t> base(n_ops), off(n_ops), ridx(red_rank);
    std::vector<int64_t> oidx(out_rank);
    // Decompose o0 into the output index.
    int64_t rem = o0;
    for (size_t d = out_rank; d-- > 0;) {
      oidx[d] = rem % p.out_sizes[d];
      rem /= p.out_sizes[d];
    }
    for (int64_t o = o0; o < o1; ++o) {
      for (size_t i = 0; i < n_ops; ++i) {
        int64_t b = 0;
        for (size_t d = 0; d < out_rank; ++d) b += oidx[d] * p.out_strides[i][d];
        base[i] = b;
      }
      // Term r of the reduction: element pointers data[i] + off[i].
      auto walk = [&](auto&& visit) {
        std::fill(ridx.begin(), ridx.end(), 0);
        off = base;
        for (int64_t r = 0; r < p.red_count; ++r) {
          visit(r);
          for (size_t d = red_rank; d-- > 0;) {
            if (++ridx[d] < p.red_sizes[d]) {
              for (size_t i = 0; i < n_ops; ++i) off[i] += p.red_strides[i][d];
              break;
            }
            for (size_t i = 0; i < n_ops; ++i) off[i] -= (ridx[d] - 1) * p.red_strides[i][d];
            ridx[d] = 0;
          }
        }
      };
      C result;
      if (red_rank == 0) {
        result = Load<T>(data[0][base[0]]);
        for (size_t i = 1; i < n_ops; ++i) result = Mul<C>(result, Load<T>(data[i][base[i]]));
      } else if (n_ops == 1) {
        if constexpr (std::is_floating_point_v<C>) {
          // CanonicalSum over r, terms produced in r order by the walk.
          C lane[kReduceLanes] = {};
          walk([&](int64_t r) {
            C& l = lane[r % kReduceLanes];
            l = l + Load<T>(data[0][off[0]]);
          });
          for (int w = kReduceLanes / 2; w >= 1; w /= 2)
            for (int l = 0; l < w; ++l) lane[l] = lane[l] + lane[l + w];
          result = lane[0];
        } else {
          C acc = 0;
          walk([&](int64_t) { acc = Add<C>(acc, data[0][off[0]]); });
          result = acc;
        }
      } else {
        C acc = 0;
        walk([&](int64_t) {
          C a = Load<T>(data[0][off[0]]);
          for (size_t i = 1; i + 1 < n_ops; ++i) a = Mul<C>(a, Load<T>(data[i][off[i]]));
          const C b = Load<T>(data[n_ops - 1][off[n_ops - 1]]);
          if constexpr (std::is_floating_point_v<C>) {
            acc = std::fma(a, b, acc);
          } else {
            acc = Add<C>(acc, Mul<C>(a, b));
          }
        });
        result = acc;
      }
      y[o] = Store<T>(result);
      for (size_t d = out_rank; d-- > 0;) {
        if (++oidx[d] < p.out_sizes[d]) break;
        oidx[d] = 0;
      }
    }
  });
  return Status::Ok();
}

constexpr uint32_t kEinsumTypes = types::kFloat | types::kInt;

}  // namespace

Status Einsum(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Attribute* eq_attr, ctx.RequiredAttr("equation", Attribute::Kind::kString));
  std::string eq;
  for (char c : eq_attr->s)
    if (c != ' ' && c != '\t' && c != '\n') eq += c;
  const size_t n_ops = ctx.num_inputs();
  if (n_ops == 0) return ctx.Error("Einsum needs at least one input");
  std::vector<const Tensor*> xs(n_ops);
  for (size_t i = 0; i < n_ops; ++i) {
    IDEM_ASSIGN_OR_RETURN(xs[i], ctx.InputTensor(i));
    if (xs[i]->dtype() != xs[0]->dtype())
      return ctx.Error("input ", i, " has type ", DTypeOnnxName(xs[i]->dtype()), " but input 0 has type ",
                       DTypeOnnxName(xs[0]->dtype()));
  }
  // Split "lhs->rhs" and the lhs terms.
  const size_t arrow = eq.find("->");
  const bool explicit_out = arrow != std::string::npos;
  const std::string lhs = explicit_out ? eq.substr(0, arrow) : eq;
  std::vector<Term> terms;
  size_t start = 0;
  while (true) {
    const size_t comma = lhs.find(',', start);
    const std::string s = lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    IDEM_ASSIGN_OR_RETURN(Term t, ParseTerm(ctx, s, eq));
    terms.push_back(std::move(t));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != n_ops)
    return ctx.Error("equation '", eq, "' has ", terms.size(), " input terms but the node has ", n_ops, " inputs");

  // Label sizes; ellipsis dims are right-aligned and broadcast like numpy.
  int64_t ell_rank = 0;
  std::vector<int64_t> ell_of(n_ops, 0);
  for (size_t i = 0; i < n_ops; ++i) {
    const int64_t letters = static_cast<int64_t>(terms[i].letters.size());
    const int64_t rank = xs[i]->rank();
    if (terms[i].ellipsis_at < 0 ? rank != letters : rank < letters)
      return ctx.Error("equation '", eq, "': term ", i, " has ", letters, " labels", terms[i].ellipsis_at >= 0 ? " and an ellipsis" : "",
                       " but input ", i, " has shape ", ShapeToString(xs[i]->shape()));
    ell_of[i] = rank - letters;
    ell_rank = std::max(ell_rank, ell_of[i]);
  }
  const int num_labels = kLetterLabels + static_cast<int>(ell_rank);
  std::vector<int64_t> size(static_cast<size_t>(num_labels), -1);
  // Per operand: the label of each axis.
  std::vector<std::vector<int>> axis_labels(n_ops);
  std::vector<int> first_seen;  // labels in order of first appearance
  std::vector<int> count(static_cast<size_t>(num_labels), 0);
  for (size_t i = 0; i < n_ops; ++i) {
    const Term& t = terms[i];
    for (size_t j = 0; j <= t.letters.size(); ++j) {
      if (static_cast<int>(j) == t.ellipsis_at)
        for (int64_t e = 0; e < ell_of[i]; ++e)
          axis_labels[i].push_back(kLetterLabels + static_cast<int>(ell_rank - ell_of[i] + e));
      if (j < t.letters.size()) axis_labels[i].push_back(t.letters[j]);
    }
    for (size_t a = 0; a < axis_labels[i].size(); ++a) {
      const int l = axis_labels[i][a];
      const int64_t d = xs[i]->dim(static_cast<int64_t>(a));
      int64_t& s = size[static_cast<size_t>(l)];
      if (s < 0 || s == 1) {
        if (s < 0) first_seen.push_back(l);
        s = (s == 1 && d != 1) ? d : (s < 0 ? d : s);
      } else if (d != s && d != 1) {
        return ctx.Error("equation '", eq, "': dimension sizes ", s, " and ", d, " of one label cannot be broadcast");
      }
      if (l < kLetterLabels) count[static_cast<size_t>(l)]++;
    }
  }
  // Output labels.
  std::vector<int> out_labels;
  if (explicit_out) {
    IDEM_ASSIGN_OR_RETURN(Term ot, ParseTerm(ctx, eq.substr(arrow + 2), eq));
    if (ot.ellipsis_at < 0 && ell_rank > 0) {
      bool all_one = true;
      for (int64_t e = 0; e < ell_rank; ++e) all_one = all_one && size[static_cast<size_t>(kLetterLabels + e)] == 1;
      if (!all_one)
        return ctx.Error("equation '", eq, "': the inputs have broadcast (ellipsis) dimensions but the output has no '...'");
    }
    std::vector<bool> used(static_cast<size_t>(num_labels), false);
    for (size_t j = 0; j <= ot.letters.size(); ++j) {
      if (static_cast<int>(j) == ot.ellipsis_at)
        for (int64_t e = 0; e < ell_rank; ++e) out_labels.push_back(kLetterLabels + static_cast<int>(e));
      if (j < ot.letters.size()) {
        const int l = ot.letters[j];
        if (size[static_cast<size_t>(l)] < 0)
          return ctx.Error("equation '", eq, "': output label '", static_cast<char>(AsciiOf(l)), "' does not appear in the inputs");
        if (used[static_cast<size_t>(l)])
          return ctx.Error("equation '", eq, "': output label '", static_cast<char>(AsciiOf(l)), "' is repeated");
        used[static_cast<size_t>(l)] = true;
        out_labels.push_back(l);
      }
    }
  } else {
    for (int64_t e = 0; e < ell_rank; ++e) out_labels.push_back(kLetterLabels + static_cast<int>(e));
    std::vector<int> once;
    for (int l = 0; l < kLetterLabels; ++l)
      if (count[static_cast<size_t>(l)] == 1) once.push_back(l);
    std::sort(once.begin(), once.end(), [](int a, int b) { return AsciiOf(a) < AsciiOf(b); });
    out_labels.insert(out_labels.end(), once.begin(), once.end());
  }
  std::vector<bool> in_out(static_cast<size_t>(num_labels), false);
  for (int l : out_labels) in_out[static_cast<size_t>(l)] = true;
  std::vector<int> red_labels;
  for (int l : first_seen)
    if (!in_out[static_cast<size_t>(l)]) red_labels.push_back(l);

  // Strides of each operand per label (repeated labels add their strides: the diagonal).
  EinsumPlan plan;
  std::vector<std::vector<int64_t>> label_stride(n_ops, std::vector<int64_t>(static_cast<size_t>(num_labels), 0));
  for (size_t i = 0; i < n_ops; ++i) {
    const std::vector<int64_t> st = StridesOf(xs[i]->shape());
    for (size_t a = 0; a < axis_labels[i].size(); ++a) {
      const int l = axis_labels[i][a];
      if (xs[i]->dim(static_cast<int64_t>(a)) == 1 && size[static_cast<size_t>(l)] != 1) continue;  // broadcast
      label_stride[i][static_cast<size_t>(l)] += st[a];
    }
  }
  Shape out_shape;
  for (int l : out_labels) {
    out_shape.push_back(size[static_cast<size_t>(l)]);
    plan.out_sizes.push_back(size[static_cast<size_t>(l)]);
  }
  for (int l : red_labels) {
    plan.red_sizes.push_back(size[static_cast<size_t>(l)]);
    plan.red_count *= size[static_cast<size_t>(l)];
  }
  plan.out_strides.resize(n_ops);
  plan.red_strides.resize(n_ops);
  for (size_t i = 0; i < n_ops; ++i) {
    for (int l : out_labels) plan.out_strides[i].push_back(label_stride[i][static_cast<size_t>(l)]);
    for (int l : red_labels) plan.red_strides[i].push_back(label_stride[i][static_cast<size_t>(l)]);
  }
  IDEM_ASSIGN_OR_RETURN(Tensor * Y, ctx.AllocateOutput(0, xs[0]->dtype(), out_shape));
  if (Y->numel() == 0) return Status::Ok();
  return VisitDType<kEinsumTypes>(xs[0]->dtype(), "Einsum", [&](auto tag) {
    return RunEinsum<typename decltype(tag)::type>(ctx, xs, plan, Y);
  });
}

}  // namespace idem::kernels
