// String ops: StringNormalizer (opset 10) and TfIdfVectorizer (opset 9).
//
// Case mapping is idem's own, locale-independent simple (one code point to one code point) Unicode
// mapping over UTF-8 for these blocks: ASCII, Latin-1 Supplement, Latin Extended-A, Latin Extended
// Additional, Greek, Cyrillic (incl. Supplement), Armenian and Fullwidth Latin. Characters outside
// them, characters without a simple mapping (e.g. German eszett), and bytes that are not valid UTF-8
// are copied unchanged. The `locale` attribute is accepted and ignored, so results never depend on
// the machine's locale.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "kernels/kernel.h"

namespace idem::kernels {
namespace {

// ---- Unicode simple case mapping --------------------------------------------------------------

// Blocks of alternating case pairs: upper at an even offset from lo, its lower case right after.
struct AlternatingRange {
  uint32_t lo, hi;
};

constexpr AlternatingRange kAlternating[] = {
    {0x0100, 0x012F}, {0x0132, 0x0137}, {0x0139, 0x0148}, {0x014A, 0x0177}, {0x0179, 0x017E}, {0x0460, 0x0481},
    {0x048A, 0x04BF}, {0x04C1, 0x04CE}, {0x04D0, 0x052F}, {0x1E00, 0x1E95}, {0x1EA0, 0x1EFF},
};

// Contiguous blocks: upper [lo, hi] maps to lower [lo + delta, hi + delta].
struct ShiftRange {
  uint32_t lo, hi;
  int32_t delta;
};

constexpr ShiftRange kShift[] = {
    {0x0041, 0x005A, 32},   {0x00C0, 0x00D6, 32},   {0x00D8, 0x00DE, 32},  {0x0391, 0x03A1, 32},
    {0x03A3, 0x03AB, 32},   {0x0388, 0x038A, 37},   {0x038E, 0x038F, 63},  {0x0410, 0x042F, 32},
    {0x0400, 0x040F, 80},   {0x0531, 0x0556, 48},   {0xFF21, 0xFF3A, 32},
};

// Single pairs (upper, lower) not covered by the ranges above.
constexpr uint32_t kSinglePairs[][2] = {
    {0x0178, 0x00FF}, {0x0386, 0x03AC}, {0x038C, 0x03CC}, {0x04C0, 0x04CF},
};

uint32_t ToLowerCp(uint32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  for (const ShiftRange& r : kShift)
    if (c >= r.lo && c <= r.hi) return static_cast<uint32_t>(static_cast<int32_t>(c) + r.delta);
  for (const AlternatingRange& r : kAlternating)
    if (c >= r.lo && c <= r.hi) return (c - r.lo) % 2 == 0 ? c + 1 : c;
  for (const auto& p : kSinglePairs)
    if (c == p[0]) return p[1];
  if (c == 0x0130) return 0x0069;  // capital I with dot above -> i
  return c;
}

uint32_t ToUpperCp(uint32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  for (const ShiftRange& r : kShift) {
    const uint32_t lo = static_cast<uint32_t>(static_cast<int32_t>(r.lo) + r.delta);
    const uint32_t hi = static_cast<uint32_t>(static_cast<int32_t>(r.hi) + r.delta);
    if (c >= lo && c <= hi) return static_cast<uint32_t>(static_cast<int32_t>(c) - r.delta);
  }
  for (const AlternatingRange& r : kAlternating)
    if (c >= r.lo && c <= r.hi) return (c - r.lo) % 2 == 1 ? c - 1 : c;
  for (const auto& p : kSinglePairs)
    if (c == p[1]) return p[0];
  switch (c) {
    case 0x00B5: return 0x039C;  // micro sign -> capital mu
    case 0x0131: return 0x0049;  // dotless i -> I
    case 0x017F: return 0x0053;  // long s -> S
    case 0x03C2: return 0x03A3;  // final sigma -> capital sigma
    default: return c;
  }
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if it is not valid UTF-8.
size_t DecodeUtf8(const std::string& s, size_t i, uint32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) { cp = b0; return 1; }
  if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1F; min = 0x80; }
  else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0F; min = 0x800; }
  else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void EncodeUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string MapCase(const std::string& s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(s, i, cp);
    if (len == 0) {  // invalid byte: copy as is
      out.push_back(s[i]);
      ++i;
      continue;
    }
    EncodeUtf8(upper ? ToUpperCp(cp) : ToLowerCp(cp), out);
    i += len;
  }
  return out;
}

// ---- TfIdfVectorizer --------------------------------------------------------------------------

template <typename Item>
struct NgramPool {
  std::map<std::vector<Item>, int64_t> ids;  // n-gram -> its ordinal in the pool (first occurrence)
  int64_t count = 0;                         // number of n-grams in the pool
};

template <typename Item>
Status BuildPool(const KernelContext& ctx, const std::vector<Item>& pool, const std::vector<int64_t>& ngram_counts,
                 NgramPool<Item>& out) {
  const int64_t pool_size = static_cast<int64_t>(pool.size());
  for (size_t level = 0; level < ngram_counts.size(); ++level) {
    const int64_t n = static_cast<int64_t>(level) + 1;
    const int64_t begin = ngram_counts[level];
    const int64_t end = level + 1 < ngram_counts.size() ? ngram_counts[level + 1] : pool_size;
    if (begin < 0 || begin > end || end > pool_size)
      return ctx.Error("ngram_counts ", level, " = ", begin, " does not delimit a valid part of a pool of ", pool_size,
                       " items (values must be non-decreasing and <= pool size)");
    if ((end - begin) % n != 0)
      return ctx.Error("pool part of ", n, "-grams has ", end - begin, " items, not a multiple of ", n);
    for (int64_t k = begin; k < end; k += n) {
      std::vector<Item> key(pool.begin() + k, pool.begin() + k + n);
      out.ids.emplace(std::move(key), out.count);
      ++out.count;
    }
  }
  return Status::Ok();
}

struct TfIdfParams {
  int64_t min_gram = 0, max_gram = 0, max_skip = 0;
  int mode = 0;  // 0 TF, 1 IDF, 2 TFIDF
  std::vector<int64_t> ngram_indexes;
  std::vector<float> weights;
  int64_t out_width = 0;
};

// Counts pool n-grams in one row of items (the ONNX reference's enumeration: for every skip
// distance 1..max_skip+1 and start position, n-grams of length min..max; unigrams only once).
template <typename Item>
void CountRow(const std::vector<Item>& row, const NgramPool<Item>& pool, const TfIdfParams& p,
              std::vector<int64_t>& counts) {
  const int64_t len = static_cast<int64_t>(row.size());
  int64_t start_n = p.min_gram;
  std::vector<Item> key;
  for (int64_t dist = 1; dist <= p.max_skip + 1; ++dist) {
    for (int64_t start = 0; start < len; ++start) {
      if (start + dist * (start_n - 1) >= len) break;
      for (int64_t n = start_n; n <= p.max_gram; ++n) {
        if (start + dist * (n - 1) >= len) break;
        key.clear();
        for (int64_t k = 0; k < n; ++k) key.push_back(row[static_cast<size_t>(start + k * dist)]);
        auto it = pool.ids.find(key);
        if (it != pool.ids.end()) ++counts[static_cast<size_t>(it->second)];
      }
    }
    if (start_n == 1) {  // unigrams do not depend on the skip distance: count them once
      start_n = 2;
      if (start_n > p.max_gram) break;
    }
  }
}

template <typename Item, typename GetRow>
Status RunTfIdf(KernelContext& ctx, const NgramPool<Item>& pool, const TfIdfParams& p, int64_t rows, bool rank1,
                GetRow get_row) {
  if (static_cast<int64_t>(p.ngram_indexes.size()) != pool.count)
    return ctx.Error("ngram_indexes has ", p.ngram_indexes.size(), " entries but the pool holds ", pool.count, " n-grams");
  if (!p.weights.empty() && static_cast<int64_t>(p.weights.size()) != pool.count)
    return ctx.Error("weights has ", p.weights.size(), " entries but the pool holds ", pool.count, " n-grams");
  const Shape shape = rank1 ? Shape{p.out_width} : Shape{rows, p.out_width};
  IDEM_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DType::kF32, shape));
  float* o = out->data<float>();
  ctx.ParallelFor(rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> counts;
    std::vector<Item> row;
    for (int64_t r = begin; r < end; ++r) {
      counts.assign(static_cast<size_t>(pool.count), 0);
      get_row(r, row);
      CountRow(row, pool, p, counts);
      float* orow = o + r * p.out_width;
      for (int64_t id = 0; id < pool.count; ++id) {
        const int64_t c = counts[static_cast<size_t>(id)];
        if (c == 0) continue;
        const float w = p.weights.empty() ? 1.0f : p.weights[static_cast<size_t>(id)];
        const float v = p.mode == 0 ? static_cast<float>(c) : p.mode == 1 ? w : static_cast<float>(c) * w;
        orow[p.ngram_indexes[static_cast<size_t>(id)]] += v;
      }
    }
  });
  return Status::Ok();
}

}  // namespace

Status StringNormalizer(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  if (x->dtype() != DType::kString) return ctx.Error("X must be a string tensor, got ", DTypeOnnxName(x->dtype()));
  if (!(x->rank() == 1 || (x->rank() == 2 && x->dim(0) == 1)))
    return ctx.Error("X must have shape [C] or [1, C], got ", ShapeToString(x->shape()));
  const std::string action = ctx.String("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    return ctx.Error("case_change_action must be LOWER, UPPER or NONE, got '", action, "'");
  const bool case_sensitive = ctx.Int("is_case_sensitive", 0) != 0;
  std::vector<std::string> stopwords = ctx.Strings("stopwords");
  if (!case_sensitive)
    for (std::string& s : stopwords) s = MapCase(s, false);
  std::sort(stopwords.begin(), stopwords.end());

  const std::string* in = x->data<std::string>();
  std::vector<std::string> kept;
  for (int64_t i = 0; i < x->numel(); ++i) {
    const std::string probe = case_sensitive ? in[i] : MapCase(in[i], false);
    if (std::binary_search(stopwords.begin(), stopwords.end(), probe)) continue;
    if (action == "NONE") kept.push_back(in[i]);
    else kept.push_back(MapCase(in[i], action == "UPPER"));
  }
  if (kept.empty()) kept.emplace_back();  // all dropped: one empty string
  const int64_t c = static_cast<int64_t>(kept.size());
  const Shape shape = x->rank() == 1 ? Shape{c} : Shape{1, c};
  IDEM_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kString, shape));
  std::string* out = y->data<std::string>();
  for (int64_t i = 0; i < c; ++i) out[i] = std::move(kept[static_cast<size_t>(i)]);
  return Status::Ok();
}

Status TfIdfVectorizer(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  TfIdfParams p;
  IDEM_ASSIGN_OR_RETURN(p.min_gram, ctx.RequiredInt("min_gram_length"));
  IDEM_ASSIGN_OR_RETURN(p.max_gram, ctx.RequiredInt("max_gram_length"));
  IDEM_ASSIGN_OR_RETURN(p.max_skip, ctx.RequiredInt("max_skip_count"));
  if (p.min_gram < 1 || p.max_gram < p.min_gram)
    return ctx.Error("need 1 <= min_gram_length <= max_gram_length, got ", p.min_gram, " and ", p.max_gram);
  if (p.max_skip < 0) return ctx.Error("max_skip_count must be non-negative, got ", p.max_skip);
  IDEM_ASSIGN_OR_RETURN(const Attribute* mode_attr, ctx.RequiredAttr("mode", Attribute::Kind::kString));
  if (mode_attr->s == "TF") p.mode = 0;
  else if (mode_attr->s == "IDF") p.mode = 1;
  else if (mode_attr->s == "TFIDF") p.mode = 2;
  else return ctx.Error("mode must be TF, IDF or TFIDF, got '", mode_attr->s, "'");
  IDEM_ASSIGN_OR_RETURN(const Attribute* counts_attr, ctx.RequiredAttr("ngram_counts", Attribute::Kind::kInts));
  IDEM_ASSIGN_OR_RETURN(const Attribute* idx_attr, ctx.RequiredAttr("ngram_indexes", Attribute::Kind::kInts));
  p.ngram_indexes = idx_attr->ints;
  p.weights = ctx.Floats("weights");
  for (int64_t v : p.ngram_indexes) {
    if (v < 0) return ctx.Error("ngram_indexes has a negative entry ", v);
    p.out_width = std::max(p.out_width, v + 1);
  }
  const bool has_ints = ctx.HasAttr("pool_int64s"), has_strings = ctx.HasAttr("pool_strings");
  if (has_ints == has_strings) return ctx.Error("exactly one of pool_int64s and pool_strings must be set");

  if (x->rank() != 1 && x->rank() != 2)
    return ctx.Error("X must have shape [C] or [N, C], got ", ShapeToString(x->shape()));
  const bool rank1 = x->rank() == 1;
  const int64_t rows = rank1 ? 1 : x->dim(0);
  const int64_t cols = rank1 ? x->dim(0) : x->dim(1);

  if (has_strings) {
    if (x->dtype() != DType::kString)
      return ctx.Error("pool_strings is set, so X must be a string tensor, got ", DTypeOnnxName(x->dtype()));
    NgramPool<std::string> pool;
    IDEM_RETURN_IF_ERROR(BuildPool(ctx, ctx.Strings("pool_strings"), counts_attr->ints, pool));
    const std::string* xs = x->data<std::string>();
    return RunTfIdf<std::string>(ctx, pool, p, rows, rank1, [&](int64_t r, std::vector<std::string>& row) {
      row.assign(xs + r * cols, xs + (r + 1) * cols);
    });
  }
  if (x->dtype() != DType::kI32 && x->dtype() != DType::kI64)
    return ctx.Error("pool_int64s is set, so X must be int32 or int64, got ", DTypeOnnxName(x->dtype()));
  NgramPool<int64_t> pool;
  IDEM_RETURN_IF_ERROR(BuildPool(ctx, ctx.Ints("pool_int64s"), counts_attr->ints, pool));
  return RunTfIdf<int64_t>(ctx, pool, p, rows, rank1, [&](int64_t r, std::vector<int64_t>& row) {
    row.resize(static_cast<size_t>(cols));
    for (int64_t k = 0; k < cols; ++k) row[static_cast<size_t>(k)] = x->IntAt(r * cols + k);
  });
}

}  // namespace idem::kernels
