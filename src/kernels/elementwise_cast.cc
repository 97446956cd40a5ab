// Cast and CastLike between every pair of numeric, bool and string element types.
//
// Numeric conversions (ew::ConvertElement): float -> int truncates toward zero, NaN -> 0 and out
// of range saturates; int -> int wraps modulo 2^bits; -> bool is `!= 0`; f16/bf16 results are
// rounded to nearest even exactly once (f64 and wide integers go through round-to-odd f32).
// To string: integers in decimal, bool as "True"/"False", floats as NumPy prints them (shortest
// round-trip digits; positional when 1e-4 <= |x| < 1e16 or x == 0, else scientific: "1e-05",
// "1.5e+20"; "nan", "inf", "-inf"). From string: decimal or scientific literals, "NaN", "INF",
// "+INF", "-INF" in any case; a literal that is not a number is an error.
#include <charconv>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include "kernels/elementwise_map.h"

namespace idem::kernels {
namespace {

// ---------------------------------------------------------------- string -> number

std::string_view Trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// For a decimal literal that does not fit the target type: true if its magnitude is >= 1 (so it
// overflows to infinity), false if it underflows to zero.
bool MagnitudeAtLeastOne(std::string_view body) {
  int64_t int_digits = 0, leading_frac_zeros = 0;
  size_t i = 0;
  while (i < body.size() && body[i] == '0') ++i;
  for (; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i) ++int_digits;
  if (int_digits == 0 && i < body.size() && body[i] == '.') {
    for (++i; i < body.size() && body[i] == '0'; ++i) ++leading_frac_zeros;
  }
  while (i < body.size() && body[i] != 'e' && body[i] != 'E') ++i;
  int64_t exp10 = 0;
  if (i < body.size()) {
    ++i;
    const bool neg = i < body.size() && body[i] == '-';
    if (i < body.size() && (body[i] == '-' || body[i] == '+')) ++i;
    for (; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i)
      exp10 = std::min<int64_t>(exp10 * 10 + (body[i] - '0'), int64_t{1} << 30);
    if (neg) exp10 = -exp10;
  }
  const int64_t magnitude = int_digits > 0 ? int_digits : -leading_frac_zeros;
  return magnitude + exp10 > 0;
}

// Parses a floating literal into F (float or double), correctly rounded.
template <typename F>
bool ParseFloating(std::string_view s, F* out) {
  s = Trim(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  F v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (end != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    v = MagnitudeAtLeastOne(s) ? std::numeric_limits<F>::infinity() : F(0);
  } else if (ec != std::errc()) {
    return false;
  }
  *out = neg ? -v : v;
  return true;
}

template <typename To>
bool ParseString(const std::string& text, To* out) {
  if constexpr (std::is_same_v<To, bool>) {
    const std::string_view s = Trim(text);
    if (EqualsIgnoreCase(s, "true")) { *out = true; return true; }
    if (EqualsIgnoreCase(s, "false")) { *out = false; return true; }
    double d;
    if (!ParseFloating(s, &d)) return false;
    *out = d != 0;
    return true;
  } else if constexpr (std::is_same_v<To, float> || std::is_same_v<To, double>) {
    return ParseFloating(text, out);
  } else if constexpr (kIsHalf<To>) {
    double d;
    if (!ParseFloating(text, &d)) return false;
    *out = ew::ConvertElement<To>(d);
    return true;
  } else {  // integers: exact decimal integers, otherwise any floating literal truncated/saturated
    std::string_view s = Trim(text);
    std::string_view digits = s;
    if (digits.size() > 1 && digits[0] == '+' && digits[1] >= '0' && digits[1] <= '9') digits.remove_prefix(1);
    To v{};
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 10);
    if (ec == std::errc() && end == digits.data() + digits.size()) {
      *out = v;
      return true;
    }
    double d;
    if (!ParseFloating(s, &d)) return false;
    *out = ew::FloatToInt<To>(d);
    return true;
  }
}

// ---------------------------------------------------------------- number -> string

// A decimal d0.d1d2... x 10^exp10 (digits without a sign or point).
struct Decimal {
  bool negative = false;
  std::string digits;
  int exp10 = 0;
};

// Splits the output of std::to_chars(..., scientific) of a finite value ("-1.25e+08") into a
// Decimal.
Decimal ParseScientific(std::string_view s) {
  Decimal d;
  if (!s.empty() && s[0] == '-') {
    d.negative = true;
    s.remove_prefix(1);
  }
  const size_t e = s.find('e');
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') d.digits.push_back(s[i]);
  std::string_view ex = s.substr(e + 1);
  const bool neg = ex[0] == '-';
  int v = 0;
  for (size_t i = 1; i < ex.size(); ++i) v = v * 10 + (ex[i] - '0');
  d.exp10 = neg ? -v : v;
  return d;
}

// Shortest digits that read back as the same f32/f64 value.
template <typename F>
Decimal ShortestDecimal(F v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  return ParseScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
}

// Shortest digits that read back (decimal -> nearest half) as the same f16/bf16 value.
template <typename H>
Decimal ShortestHalfDecimal(H h) {
  const float f = Load(h);
  char buf[64];
  for (int precision = 0; precision < 9; ++precision) {
    const auto r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific, precision);
    double back = 0;
    std::from_chars(buf, r.ptr, back, std::chars_format::scientific);
    if (ew::ConvertElement<H>(back).bits == h.bits)
      return ParseScientific(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  }
  return ShortestDecimal(f);  // unreachable: 9 digits always round-trip a float
}

// NumPy's str() of a finite float from its shortest digits and its exact value.
std::string FormatLikeNumpy(const Decimal& d, double value) {
  const double mag = value < 0 ? -value : value;
  const std::string& g = d.digits;
  const int n = static_cast<int>(g.size());
  std::string s = d.negative ? "-" : "";
  if (value == 0 || (mag >= 1e-4 && mag < 1e16)) {
    if (d.exp10 >= 0) {
      const int int_len = d.exp10 + 1;
      s += g.substr(0, static_cast<size_t>(std::min(n, int_len)));
      if (int_len > n) s.append(static_cast<size_t>(int_len - n), '0');
      s += '.';
      s += n > int_len ? g.substr(static_cast<size_t>(int_len)) : "0";
    } else {
      s += "0.";
      s.append(static_cast<size_t>(-d.exp10 - 1), '0');
      s += g;
    }
    return s;
  }
  s += g[0];
  if (n > 1) {
    s += '.';
    s.append(g, 1, std::string::npos);
  }
  s += d.exp10 < 0 ? "e-" : "e+";
  const int e = d.exp10 < 0 ? -d.exp10 : d.exp10;
  if (e < 10) s += '0';
  s += std::to_string(e);
  return s;
}

// "nan", "inf", "-inf" for non-finite values, else nullptr.
const char* NonFiniteName(double v) {
  if (v != v) return "nan";
  if (v == std::numeric_limits<double>::infinity()) return "inf";
  if (v == -std::numeric_limits<double>::infinity()) return "-inf";
  return nullptr;
}

template <typename From>
std::string ToString(const From& v) {
  if constexpr (kIsFloat<From>) {
    if (const char* name = NonFiniteName(static_cast<double>(Load(v)))) return name;
  }
  if constexpr (std::is_same_v<From, bool>) {
    return v ? "True" : "False";
  } else if constexpr (std::is_same_v<From, float> || std::is_same_v<From, double>) {
    return FormatLikeNumpy(ShortestDecimal(v), static_cast<double>(v));
  } else if constexpr (kIsHalf<From>) {
    return FormatLikeNumpy(ShortestHalfDecimal(v), static_cast<double>(Load(v)));
  } else {
    return std::to_string(v);
  }
}

// ---------------------------------------------------------------- SIMD conversions

// f32 <-> f16/bf16 through the vectorized conversions of the current ISA (bitwise equal to
// ConvertElement, kernels/simd/elementwise.h); nullptr for other pairs or Isa::kScalar.
template <typename T>
using SimdRaw = std::conditional_t<std::is_same_v<T, float>, float, uint16_t>;

template <typename From, typename To>
auto SimdConversion() -> void (*)(const SimdRaw<From>*, SimdRaw<To>*, size_t) {
  constexpr bool kToHalf = std::is_same_v<From, float> && kIsHalf<To>;
  constexpr bool kFromHalf = kIsHalf<From> && std::is_same_v<To, float>;
  if constexpr (kToHalf || kFromHalf) {
    const simd::Isa isa = simd::CurrentIsa();
    if (isa == simd::Isa::kScalar) return nullptr;
    const simd::ConvertFns fns = simd::ConvertFor(isa);
    if constexpr (std::is_same_v<To, Float16>) return fns.f32_to_f16;
    else if constexpr (std::is_same_v<To, BFloat16>) return fns.f32_to_bf16;
    else if constexpr (std::is_same_v<From, Float16>) return fns.f16_to_f32;
    else return fns.bf16_to_f32;
  } else {
    return nullptr;
  }
}

// ---------------------------------------------------------------- the kernel

Status CastTensor(KernelContext& ctx, const Tensor& x, DType to) {
  const std::string what = ctx.node().Describe();
  return VisitDType<types::kAll>(x.dtype(), what.c_str(), [&](auto ftag) {
    using From = typename decltype(ftag)::type;
    return VisitDType<types::kAll>(to, what.c_str(), [&](auto ttag) -> Status {
      using To = typename decltype(ttag)::type;
      if constexpr (std::is_same_v<From, To>) {
        ctx.SetOutput(0, x);  // same type: the tensor itself (buffers are shared read-only)
        return Status::Ok();
      } else {
        IDEM_ASSIGN_OR_RETURN(Tensor* y, ctx.AllocateOutput(0, to, x.shape()));
        const From* src = x.template data<From>();
        To* dst = y->template data<To>();
        const int64_t n = x.numel();
        if constexpr (std::is_same_v<From, std::string>) {
          for (int64_t i = 0; i < n; ++i)
            if (!ParseString(src[i], &dst[i]))
              return ctx.Error("cannot convert string \"", src[i], "\" (element ", i, ") to ", DTypeOnnxName(to));
        } else if constexpr (std::is_same_v<To, std::string>) {
          ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) dst[i] = ToString(src[i]);
          });
        } else if (const auto convert = SimdConversion<From, To>(); convert != nullptr) {
          ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
            convert(reinterpret_cast<const SimdRaw<From>*>(src + b), reinterpret_cast<SimdRaw<To>*>(dst + b),
                    static_cast<size_t>(e - b));
          });
        } else {
          ctx.ParallelFor(n, kElementwiseGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) dst[i] = ew::ConvertElement<To>(src[i]);
          });
        }
        return Status::Ok();
      }
    });
  });
}

// Cast-1 names the target type with a string ("FLOAT", "INT64", ...).
Result<DType> DTypeFromName(const KernelContext& ctx, const std::string& name) {
  static constexpr std::pair<const char*, DType> kNames[] = {
      {"FLOAT", DType::kF32},   {"UINT8", DType::kU8},    {"INT8", DType::kI8},       {"UINT16", DType::kU16},
      {"INT16", DType::kI16},   {"INT32", DType::kI32},   {"INT64", DType::kI64},     {"STRING", DType::kString},
      {"BOOL", DType::kBool},   {"FLOAT16", DType::kF16}, {"DOUBLE", DType::kF64},    {"UINT32", DType::kU32},
      {"UINT64", DType::kU64},  {"BFLOAT16", DType::kBF16}};
  for (const auto& [n, t] : kNames)
    if (EqualsIgnoreCase(name, n)) return t;
  return ctx.Error("attribute 'to' names an unknown element type \"", name, "\"");
}

}  // namespace

Status Cast(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  const Attribute* to_attr = ctx.node().FindAttribute("to");
  if (!to_attr) return ctx.Error("required attribute 'to' is missing");
  DType to;
  if (to_attr->kind == Attribute::Kind::kString) {
    IDEM_ASSIGN_OR_RETURN(to, DTypeFromName(ctx, to_attr->s));
  } else if (to_attr->kind == Attribute::Kind::kInt) {
    if (to_attr->i < 0 || to_attr->i > std::numeric_limits<int32_t>::max() ||
        !IsValidDType(static_cast<int32_t>(to_attr->i)) || to_attr->i == 0)
      return ctx.UnsupportedError("attribute 'to' = ", to_attr->i, " is not a supported element type");
    to = static_cast<DType>(to_attr->i);
  } else {
    return ctx.Error("attribute 'to' must be an int, got ", AttributeKindName(to_attr->kind));
  }
  return CastTensor(ctx, *x, to);
}

Status CastLike(KernelContext& ctx) {
  IDEM_ASSIGN_OR_RETURN(const Tensor* x, ctx.InputTensor(0));
  IDEM_ASSIGN_OR_RETURN(const Tensor* like, ctx.InputTensor(1));
  return CastTensor(ctx, *x, like->dtype());
}

}  // namespace idem::kernels
