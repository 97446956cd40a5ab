// Tensor family: NonMaxSuppression (opset 10-17).
//
// Per (batch, class): candidates are the boxes with score > score_threshold (all boxes when no
// threshold is given), visited by descending score, ties by ascending box index, NaN scores last.
// A candidate is selected unless its IoU with an already selected box of the same class exceeds
// iou_threshold; at most max_output_boxes_per_class are selected. IoU arithmetic is f32 in the
// order written below. Output rows [batch, class, box] in (batch, class, selection) order.
#include <algorithm>
#include <numeric>

#include "kernels/tensor_common.h"

namespace idem::kernels {

namespace {

struct Box {
  float x_min, y_min, x_max, y_max;
};

Box ToBox(const float* b, bool center_point) {
  if (center_point) {  // [x_center, y_center, width, height]
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[0] - hw, b[1] - hh, b[0] + hw, b[1] + hh};
  }
  // [y1, x1, y2, x2] with the corners in either order.
  return {std::min(b[1], b[3]), std::min(b[0], b[2]), std::max(b[1], b[3]), std::max(b[0], b[2])};
}

// True when IoU(a, b) > threshold. Empty boxes and empty intersections never suppress.
bool Suppresses(const Box& a, const Box& b, float threshold) {
  const float ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  if (!(ix_max > ix_min)) return false;
  const float iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (!(iy_max > iy_min)) return false;
  const float inter = (ix_max - ix_min) * (iy_max - iy_min);
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float uni = area_a + area_b - inter;
  if (!(inter > 0) || !(area_a > 0) || !(area_b > 0) || !(uni > 0)) return false;
  return inter / uni > threshold;
}

Result<const Tensor*> OptionalScalar(const KernelContext& ctx, size_t i, const char* what) {
  if (!ctx.has_input(i)) return static_cast<const Tensor*>(nullptr);
  IDEM_ASSIGN_OR_RETURN(const Tensor* t, ctx.InputTensor(i));
  if (t->numel() == 0) return static_cast<const Tensor*>(nullptr);
  if (t->numel() != 1) return ctx.Error(what, " must be a scalar, got shape ", ShapeToString(t->shape()));
  return t;
}

}  // namespace

Status NonMaxSuppression(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* boxes, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* scores, ctx.InputTensor(1));
  if (boxes->dtype() != DType::kF32 || scores->dtype() != DType::kF32)
    return ctx.Error("boxes and scores must be float");
  if (boxes->rank() != 3 || boxes->dim(2) != 4)
    return ctx.Error("boxes must have shape [batches, boxes, 4], got ", ShapeToString(boxes->shape()));
  if (scores->rank() != 3 || scores->dim(0) != boxes->dim(0) || scores->dim(2) != boxes->dim(1))
    return ctx.Error("scores must have shape [", boxes->dim(0), ", classes, ", boxes->dim(1), "], got ",
                     ShapeToString(scores->shape()));
  IDEM_ASSIGN_OR_RETURN(const Tensor* tmax, OptionalScalar(ctx, 2, "max_output_boxes_per_class"));
  IDEM_ASSIGN_OR_RETURN(const Tensor* tiou, OptionalScalar(ctx, 3, "iou_threshold"));
  IDEM_ASSIGN_OR_RETURN(const Tensor* tscore, OptionalScalar(ctx, 4, "score_threshold"));
  int64_t max_out = 0;
  if (tmax != nullptr) {
    IDEM_ASSIGN_OR_RETURN(std::vector<int64_t> v, ReadInts(ctx, *tmax, "max_output_boxes_per_class"));
    max_out = std::max<int64_t>(v[0], 0);
  }
  const float iou = tiou ? static_cast<float>(tiou->DoubleAt(0)) : 0.0f;
  if (!(iou >= 0 && iou <= 1)) return ctx.Error("iou_threshold ", iou, " must be in [0, 1]");
  const bool has_score = tscore != nullptr;
  const float score_threshold = has_score ? static_cast<float>(tscore->DoubleAt(0)) : 0.0f;
  const int64_t center = ctx.Int("center_point_box", 0);
  if (center != 0 && center != 1) return ctx.Error("center_point_box ", center, " must be 0 or 1");

  const int64_t B = boxes->dim(0), S = boxes->dim(1), C = scores->dim(1);
  const float* bd = boxes->data<float>();
  const float* sd = scores->data<float>();
  std::vector<int64_t> rows;
  std::vector<Box> all(static_cast<size_t>(S));
  std::vector<int64_t> cand;
  std::vector<int64_t> selected;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t s = 0; s < S; ++s) all[static_cast<size_t>(s)] = ToBox(bd + (b * S + s) * 4, center == 1);
    for (int64_t c = 0; c < C; ++c) {
      if (max_out == 0) break;
      const float* cs = sd + (b * C + c) * S;
      cand.clear();
      for (int64_t s = 0; s < S; ++s)
        if (!has_score || cs[s] > score_threshold) cand.push_back(s);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t p, int64_t q) {
        const float a = cs[p], z = cs[q];
        const bool an = a != a, zn = z != z;
        if (an || zn) return !an && zn;  // NaN last
        return a > z;
      });
      selected.clear();
      for (int64_t s : cand) {
        if (static_cast<int64_t>(selected.size()) >= max_out) break;
        bool keep = true;
        for (int64_t t : selected)
          if (Suppresses(all[static_cast<size_t>(s)], all[static_cast<size_t>(t)], iou)) {
            keep = false;
            break;
          }
        if (keep) selected.push_back(s);
      }
      for (int64_t s : selected) rows.insert(rows.end(), {b, c, s});
    }
  }
  const int64_t n = static_cast<int64_t>(rows.size()) / 3;
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kI64, {n, 3}));
  std::copy(rows.begin(), rows.end(), y->data<int64_t>());
  return Status::Ok();
}

}  // namespace idem::kernels
