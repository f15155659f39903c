#pragma once
/** @file
 * @brief Mergeable zonal-statistics accumulators: weighted value moments, a fixed-bin histogram
 * for median/percentiles, and per-class areas. Host and device (RECLAIM_HD), trivially copyable.
 *
 * Every accumulator is an aggregate whose all-zero state is the empty accumulator, so
 * `ValueAccumulator a{};` (host) or a zero-filled `__shared__` block (device) is ready to use,
 * and `merge(const Acc&)` combines partials from tiles, threads, streams, GPUs and shards.
 *
 * Bit-identical merging. Floating-point addition is not associative, so instead of fixing a merge
 * order every sum that must not depend on the grouping is accumulated EXACTLY in integers:
 *  - ValueAccumulator: the weight sum W, the nodata weight sum and the weighted sums of x and
 *    x^2 (S1, S2) are ExactSum, a 256-bit two's-complement fixed-point number with 128 fraction
 *    bits. Each term (w as a double; w x and w x^2 as EXACT integer products of the doubles'
 *    significands) is converted exactly (any w in [2^-75, 2^126), any product below 2^126 that
 *    is a multiple of 2^-128; others round to a multiple of 2^-128 once per pixel, the same way
 *    in every grouping) and integer addition is associative
 *    and commutative, so 1 tile, 100 tiles or 4 merged shards give the same integers, and
 *    weight(), sum(), mean() and variance() = (W S2 - S1^2) / W^2 (formed in exact 512-bit
 *    integers, rounded once) are bit-identical in any order, on host and device.
 *  - HistogramAccumulator and ClassAccumulator hold weights as uint64 multiples of 2^-32
 *    (quantize_weight): exact and order-free too, so percentiles and majorities are identical.
 *
 * Weights are coverage fractions (exactextract's convention: 1 = pixel wholly inside the zone).
 * A weight that is not > 0 (0, negative, NaN) means "pixel not in the zone" and is ignored.
 */
#include <cmath>
#include <cstdint>

#include "reclaim/pixel/hd.hpp"

namespace reclaim::pixel {

namespace detail {

/// Leading zeros of a non-zero 64-bit word.
RECLAIM_HD inline int clz64(std::uint64_t x) noexcept {
#ifdef __CUDA_ARCH__
  return __clzll(static_cast<long long>(x));
#else
  return __builtin_clzll(x);
#endif
}

/// 2^k for -1022 <= k <= 1023, built from the bits (no libm, identical on host and device).
RECLAIM_HD inline double pow2(int k) noexcept {
  return bits_double(static_cast<std::uint64_t>(k + 1023) << 52);
}

RECLAIM_HD inline double inf_d() noexcept { return bits_double(0x7ff0000000000000ull); }

/// Limb i of the 256-bit number (a0, a1, a2, a3), 0 outside 0..3; by value (no array index).
RECLAIM_HD inline std::uint64_t limb(std::uint64_t a0, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3,
                                     int i) noexcept {
  return i == 0 ? a0 : (i == 1 ? a1 : (i == 2 ? a2 : (i == 3 ? a3 : 0)));
}

/// A finite double as sign, integer significand and exponent: |x| = mant * 2^exp2 exactly.
RECLAIM_HD inline void decode(double x, bool& negative, std::uint64_t& mant, int& exp2) noexcept {
  std::uint64_t const bits = double_bits(x);
  negative = (bits >> 63) != 0;
  int const biased = static_cast<int>((bits >> 52) & 0x7ff);
  mant = bits & ((std::uint64_t{1} << 52) - 1);
  exp2 = -1074;  // subnormal
  if (biased != 0) {
    mant |= std::uint64_t{1} << 52;
    exp2 = biased - 1075;
  }
}

/// Veltkamp's split: x = hi + lo exactly, each with at most 26 significant bits (|x| < 2^996).
RECLAIM_HD inline void split(double x, double& hi, double& lo) noexcept {
  double const c = 134217729.0 * x;  // 2^27 + 1
  hi = c - (c - x);
  lo = x - hi;
}

/// Dekker's TwoProduct without FMA: a * b = p + e exactly, p = fl(a * b), unless the product
/// overflows or e underflows (|a * b| < 2^-969: far below ExactSum's 2^-128 resolution).
RECLAIM_HD inline void two_product(double a, double b, double& p, double& e) noexcept {
  p = a * b;
  double ah, al, bh, bl;
  split(a, ah, al);
  split(b, bh, bl);
  e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/// The high and low 64 bits of a * b.
RECLAIM_HD inline void mul64(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) noexcept {
#ifdef __CUDA_ARCH__
  hi = __umul64hi(a, b);
  lo = a * b;
#else
  unsigned __int128 const p = static_cast<unsigned __int128>(a) * b;
  hi = static_cast<std::uint64_t>(p >> 64);
  lo = static_cast<std::uint64_t>(p);
#endif
}

/// r[0..8) = a[0..4) * b[0..4), unsigned, exact.
RECLAIM_HD inline void mul256(std::uint64_t const* a, std::uint64_t const* b, std::uint64_t* r) noexcept {
  for (int k = 0; k < 8; ++k) r[k] = 0;
  for (int i = 0; i < 4; ++i) {
    std::uint64_t carry = 0;
    for (int j = 0; j < 4; ++j) {
      std::uint64_t hi, lo;
      mul64(a[i], b[j], hi, lo);
      std::uint64_t const s1 = r[i + j] + lo;
      hi += s1 < lo ? 1 : 0;
      std::uint64_t const s2 = s1 + carry;
      hi += s2 < s1 ? 1 : 0;  // hi <= 2^64 - 2 before the two carries: no wrap
      r[i + j] = s2;
      carry = hi;
    }
    r[i + 4] = carry;
  }
}

/// The unsigned integer m[0..n) as an unevaluated sum hi + lo of two doubles, relative error
/// below 2^-100 (m < 2^1000). A pure function of the integer.
RECLAIM_HD inline void limbs_to_double_double(std::uint64_t const* m, int n, double& hi, double& lo) noexcept {
  int i = n - 1;
  while (i >= 0 && m[i] == 0) --i;
  if (i < 0) {
    hi = lo = 0.0;
    return;
  }
  // The top 128 bits, left-aligned: m ~ (top * 2^64 + next) * 2^(64 (i - 1) - lz).
  int const lz = clz64(m[i]);
  std::uint64_t top = m[i] << lz, next = 0;
  if (i > 0) {
    if (lz != 0) top |= m[i - 1] >> (64 - lz);
    next = lz != 0 ? (m[i - 1] << lz) : m[i - 1];
    if (i > 1 && lz != 0) next |= m[i - 2] >> (64 - lz);
  }
  double const x1 = static_cast<double>(top >> 11) * pow2(75);                   // exact, 53 bits
  double const x2 = static_cast<double>(top & 0x7ff) * pow2(64)                   // exact, 11 bits
                    + static_cast<double>(next);                                  // < 2^65: one rounding
  double const s = x1 + x2;  // Fast2Sum (|x1| >= |x2|): s + t = x1 + x2 exactly
  double const t = x2 - (s - x1);
  double const scale = pow2(64 * (i - 1) - lz);
  hi = s * scale;
  lo = t * scale;
}

}  // namespace detail

/**
 * @brief Exact signed sum of doubles: a 256-bit two's-complement integer times 2^-128.
 *
 * add() is exact for every finite |x| in [2^-75, 2^126) and rounds smaller |x| to the nearest
 * multiple of 2^-128 (ties away from zero), so the result never depends on the order or the
 * grouping of the additions. A non-finite term, a term >= 2^126 in magnitude or a total that
 * leaves (-2^127, 2^127) sets m_overflow, and value() is then NaN.
 */
struct ExactSum {
  static constexpr int kFractionBits = 128;
  std::uint64_t m_limb[4];  ///< little-endian limbs, two's complement
  std::uint32_t m_overflow;  ///< non-zero once the sum is no longer exact

  /// Adds x exactly (see the class comment for the range).
  RECLAIM_HD void add(double x) noexcept {
    std::uint64_t const bits = double_bits(x);
    bool const negative = (bits >> 63) != 0;
    int const biased = static_cast<int>((bits >> 52) & 0x7ff);
    std::uint64_t mant = bits & ((std::uint64_t{1} << 52) - 1);
    if (biased == 0x7ff) {
      m_overflow = 1;
      return;
    }
    int exp2 = -1074;  // subnormal
    if (biased != 0) {
      mant |= std::uint64_t{1} << 52;
      exp2 = biased - 1075;
    }
    if (mant == 0) return;
    // x = mant * 2^exp2 = N * 2^-128 with N = mant * 2^s.
    int const s = exp2 + kFractionBits;
    std::uint64_t t[4] = {0, 0, 0, 0};
    if (s < 0) {
      if (-s >= 54) return;  // below 2^-129: rounds to 0 (mant < 2^53)
      t[0] = (mant + (std::uint64_t{1} << (-s - 1))) >> -s;
    } else {
      if (s > 201) {  // |x| >= 2^126: could not leave headroom for the sign
        m_overflow = 1;
        return;
      }
      int const q = s / 64, r = s % 64;
      t[q] = mant << r;
      if (r != 0 && q + 1 < 4) t[q + 1] = mant >> (64 - r);
    }
    if (negative) negate(t);
    add_limbs(t);
  }

  /// Adds m[0..3) * 2^exp2 (an unsigned 192-bit integer, little-endian limbs), negated when
  /// `negative`: exact when it is a multiple of 2^-128 below 2^126 in magnitude, else rounded to
  /// the nearest multiple of 2^-128 (ties away from zero) or, from 2^126 up, overflow.
  RECLAIM_HD void add_wide(std::uint64_t const* m, int exp2, bool negative) noexcept {
    std::uint64_t const m0 = m[0], m1 = m[1], m2 = m[2];
    int const top = m2 != 0 ? 2 : (m1 != 0 ? 1 : (m0 != 0 ? 0 : -1));
    if (top < 0) return;
    int const bitlen = 64 * top + 64 - detail::clz64(top == 2 ? m2 : (top == 1 ? m1 : m0));
    int const s = exp2 + kFractionBits;  // N = m * 2^s
    if (bitlen + s > 254) {  // >= 2^126: no headroom for the sign
      m_overflow = 1;
      return;
    }
    // Limb selection by value, not by a run-time array index: keeps everything in registers
    // on the device (no local memory).
    std::uint64_t t[4];
    if (s >= 0) {
      int const q = s / 64, r = s % 64;
      for (int j = 0; j < 4; ++j) {
        std::uint64_t const lo = detail::limb(m0, m1, m2, 0, j - q);
        std::uint64_t const below = detail::limb(m0, m1, m2, 0, j - q - 1);
        t[j] = (lo << r) | (r != 0 ? below >> (64 - r) : 0);
      }
    } else {
      int const rs = -s;
      if (rs > bitlen) return;  // below 2^-129: rounds to 0
      // + 2^(rs - 1): round half away from zero (on the magnitude), then shift right by rs.
      int const bq = (rs - 1) / 64;
      std::uint64_t const bit = std::uint64_t{1} << ((rs - 1) % 64);
      std::uint64_t w[4] = {m0, m1, m2, 0};
      std::uint64_t carry = 0;
      for (int j = 0; j < 4; ++j) {
        std::uint64_t const inc = (j == bq ? bit : 0) + carry;  // bit and carry never both
        w[j] += inc;
        carry = w[j] < inc ? 1 : 0;
      }
      int const q = rs / 64, r = rs % 64;
      for (int j = 0; j < 4; ++j) {
        std::uint64_t const hi = detail::limb(w[0], w[1], w[2], w[3], j + q);
        std::uint64_t const above = detail::limb(w[0], w[1], w[2], w[3], j + q + 1);
        t[j] = (hi >> r) | (r != 0 ? above << (64 - r) : 0);
      }
    }
    if (negative) negate(t);
    add_limbs(t);
  }

  /// Adds another exact sum (associative and commutative: integer addition).
  RECLAIM_HD void merge(ExactSum const& o) noexcept {
    m_overflow |= o.m_overflow;
    add_limbs(o.m_limb);
  }

  /// The sum rounded once to the nearest double (NaN after overflow). A pure function of the
  /// exact integer, so equal sums give equal doubles.
  RECLAIM_HD double value() const noexcept {
    if (m_overflow) return bits_double(0x7ff8000000000000ull);
    std::uint64_t mag[4] = {m_limb[0], m_limb[1], m_limb[2], m_limb[3]};
    bool const negative = (mag[3] >> 63) != 0;
    if (negative) negate(mag);
    int i = 3;
    while (i >= 0 && mag[i] == 0) --i;
    if (i < 0) return 0.0;
    int const lz = detail::clz64(mag[i]);
    std::uint64_t top = mag[i] << lz;
    std::uint64_t sticky = 0;
    if (i > 0) {
      if (lz != 0) top |= mag[i - 1] >> (64 - lz);
      sticky = lz != 0 ? (mag[i - 1] << lz) : mag[i - 1];
      for (int j = i - 2; j >= 0; --j) sticky |= mag[j];
    }
    // 64 significant bits plus a sticky bit: one correctly rounded conversion to 53 bits.
    double const d = static_cast<double>(top | (sticky != 0 ? 1u : 0u));
    double const v = d * detail::pow2(64 * i - lz - kFractionBits);
    return negative ? -v : v;
  }

  RECLAIM_HD bool operator==(ExactSum const& o) const noexcept {
    return m_limb[0] == o.m_limb[0] && m_limb[1] == o.m_limb[1] && m_limb[2] == o.m_limb[2] &&
           m_limb[3] == o.m_limb[3] && (m_overflow != 0) == (o.m_overflow != 0);
  }

 private:
  RECLAIM_HD static void negate(std::uint64_t* t) noexcept {
    std::uint64_t carry = 1;
    for (int k = 0; k < 4; ++k) {
      std::uint64_t const v = ~t[k] + carry;
      carry = (carry != 0 && v == 0) ? 1 : 0;
      t[k] = v;
    }
  }
  RECLAIM_HD void add_limbs(std::uint64_t const* t) noexcept {
    bool const sa = (m_limb[3] >> 63) != 0, sb = (t[3] >> 63) != 0;
    std::uint64_t carry = 0;
    for (int k = 0; k < 4; ++k) {
      std::uint64_t const a = m_limb[k];
      std::uint64_t const s1 = a + t[k];
      std::uint64_t const c1 = s1 < a ? 1 : 0;
      std::uint64_t const s2 = s1 + carry;
      std::uint64_t const c2 = s2 < s1 ? 1 : 0;
      m_limb[k] = s2;
      carry = c1 | c2;
    }
    bool const sr = (m_limb[3] >> 63) != 0;
    if (sa == sb && sr != sa) m_overflow = 1;  // signed overflow of the 256-bit integer
  }
};

/**
 * @brief Weighted statistics of a value raster over one zone.
 *
 * update(value, weight): weight <= 0 or NaN ignores the pixel. A non-finite value (NaN = the
 * nodata of every reclaim product, or +-inf) counts as nodata: its weight goes to the nodata
 * sum. Definitions, with w_i the weights and x_i the valid values:
 *  - weight() = W = sum w_i (coverage-weighted count), nodata_weight(), pixels() = unweighted count;
 *  - sum() = S1 = sum w_i x_i, mean() = sum() / weight();
 *  - variance() = sum w_i (x_i - mean)^2 / sum w_i: the POPULATION weighted variance (frequency
 *    weights, no Bessel correction), from S2 = sum w_i x_i^2 as (W S2 - S1^2) / W^2;
 *    stddev() = sqrt(variance());
 *  - min(), max(): over valid values with weight > 0, unweighted; NaN when there are none;
 *  - valid_fraction() = weight() / (weight() + nodata_weight()): the share of the zone with data.
 *
 * Exactness. Each pixel's w x and w x^2 are formed EXACTLY as integer products of the doubles'
 * significands (53 x 53 and 53 x 53 x 53 bits, ExactSum::add_wide; no floating-point rounding,
 * so no FMA or libm question) and added to ExactSums, so W, S1 and S2 are exact (a product's
 * bits below 2^-128 round once per pixel, the same way in every grouping) and independent of
 * the order and grouping of update() and merge(). variance() then
 * forms W S2 - S1^2 and W^2 in exact 512-bit integers (no cancellation however large the mean)
 * and divides them as double-doubles, rounding once at the end (within an ulp of the exact
 * quotient, bit-identical in every grouping, on host and device). Range: S2's terms must stay
 * below 2^126 (|x| below about 2^62 for w <= 1) or S2 overflows and variance() is NaN, like
 * sum() and mean() once S1 overflows (|w x| >= 2^126).
 */
struct ValueAccumulator {
  ExactSum m_weight;         ///< W: sum of w over valid values
  ExactSum m_nodata_weight;  ///< sum of w over nodata values
  ExactSum m_sum;            ///< S1: sum of w x (exact integer products)
  ExactSum m_sum2;           ///< S2: sum of w x^2 (exact integer products)
  std::uint64_t m_pixels;         ///< valid pixels with w > 0
  std::uint64_t m_nodata_pixels;  ///< nodata pixels with w > 0
  double m_min;
  double m_max;

  RECLAIM_HD void update(double value, double weight = 1.0) noexcept {
    if (!(weight > 0.0)) return;
    if (value != value || value - value != 0.0) {  // NaN or +-inf
      m_nodata_weight.add(weight);
      ++m_nodata_pixels;
      return;
    }
    m_weight.add(weight);
    // w x and w x^2 as exact integer products of the significands (53 x 53 and 53 x 106 bits).
    bool neg;  // the weight is > 0: the sign is the value's
    std::uint64_t mw, mx;
    int ew, ex;
    detail::decode(weight, neg, mw, ew);
    detail::decode(value, neg, mx, ex);
    std::uint64_t wx[3], xx[2], wxx[3];
    detail::mul64(mw, mx, wx[1], wx[0]);
    wx[2] = 0;
    m_sum.add_wide(wx, ew + ex, neg);
    detail::mul64(mx, mx, xx[1], xx[0]);
    std::uint64_t h1, h2;
    detail::mul64(mw, xx[0], h1, wxx[0]);
    detail::mul64(mw, xx[1], h2, wxx[1]);
    wxx[1] += h1;
    wxx[2] = h2 + (wxx[1] < h1 ? 1 : 0);
    m_sum2.add_wide(wxx, ew + 2 * ex, false);
    if (m_pixels == 0) {
      m_min = value;
      m_max = value;
    } else {
      m_min = value < m_min ? value : m_min;
      m_max = value > m_max ? value : m_max;
    }
    ++m_pixels;
  }

  /// Exact for every field: integer addition of the ExactSums, counts, min and max.
  RECLAIM_HD void merge(ValueAccumulator const& o) noexcept {
    m_weight.merge(o.m_weight);
    m_nodata_weight.merge(o.m_nodata_weight);
    m_sum.merge(o.m_sum);
    m_sum2.merge(o.m_sum2);
    m_nodata_pixels += o.m_nodata_pixels;
    if (o.m_pixels == 0) return;
    if (m_pixels == 0) {
      m_min = o.m_min;
      m_max = o.m_max;
    } else {
      m_min = o.m_min < m_min ? o.m_min : m_min;
      m_max = o.m_max > m_max ? o.m_max : m_max;
    }
    m_pixels += o.m_pixels;
  }

  RECLAIM_HD double weight() const noexcept { return m_weight.value(); }
  RECLAIM_HD double nodata_weight() const noexcept { return m_nodata_weight.value(); }
  RECLAIM_HD std::uint64_t pixels() const noexcept { return m_pixels; }
  RECLAIM_HD std::uint64_t nodata_pixels() const noexcept { return m_nodata_pixels; }
  RECLAIM_HD double sum() const noexcept { return m_sum.value(); }
  /// NaN when there is no valid value.
  RECLAIM_HD double mean() const noexcept { return m_pixels == 0 ? nan_d() : sum() / weight(); }
  /// (W S2 - S1^2) / W^2 from the exact integers; NaN without valid values or after overflow.
  RECLAIM_HD double variance() const noexcept {
    if (m_pixels == 0 || m_weight.m_overflow || m_sum.m_overflow || m_sum2.m_overflow) return nan_d();
    std::uint64_t const* w = m_weight.m_limb;  // > 0 in two's complement: a magnitude
    if ((w[3] | w[2] | w[1] | w[0]) == 0 || (w[3] >> 63) != 0) return nan_d();
    if ((m_sum2.m_limb[3] >> 63) != 0) return 0.0;  // only from rounded sub-2^-128 terms
    std::uint64_t s1[4] = {m_sum.m_limb[0], m_sum.m_limb[1], m_sum.m_limb[2], m_sum.m_limb[3]};
    if ((s1[3] >> 63) != 0) {  // |S1|
      std::uint64_t carry = 1;
      for (int k = 0; k < 4; ++k) {
        s1[k] = ~s1[k] + carry;
        carry = (carry != 0 && s1[k] == 0) ? 1 : 0;
      }
    }
    std::uint64_t num[8], sq[8], den[8];
    detail::mul256(w, m_sum2.m_limb, num);  // W S2
    detail::mul256(s1, s1, sq);             // S1^2
    detail::mul256(w, w, den);              // W^2
    std::uint64_t borrow = 0;  // num -= sq; a borrow out means W S2 < S1^2 (rounded tiny terms)
    for (int k = 0; k < 8; ++k) {
      std::uint64_t const x = num[k], y = sq[k];
      std::uint64_t const d1 = x - y;
      std::uint64_t const b1 = x < y ? 1 : 0;
      std::uint64_t const d2 = d1 - borrow;
      std::uint64_t const b2 = d1 < borrow ? 1 : 0;
      num[k] = d2;
      borrow = b1 | b2;
    }
    if (borrow != 0) return 0.0;
    double nh, nl, dh, dl;
    detail::limbs_to_double_double(num, 8, nh, nl);
    if (nh == 0.0) return 0.0;
    detail::limbs_to_double_double(den, 8, dh, dl);
    // Double-double division (nh + nl) / (dh + dl), then one rounding.
    double const q1 = nh / dh;
    double p, e;
    detail::two_product(q1, dh, p, e);
    double const r = (((nh - p) - e) + nl) - q1 * dl;
    return q1 + r / dh;
  }
  RECLAIM_HD double stddev() const noexcept { return sqrt(variance()); }
  RECLAIM_HD double min() const noexcept { return m_pixels == 0 ? nan_d() : m_min; }
  RECLAIM_HD double max() const noexcept { return m_pixels == 0 ? nan_d() : m_max; }
  /// Valid area in hectares for pixels of pixel_area_m2 square metres.
  RECLAIM_HD double area_ha(double pixel_area_m2) const noexcept { return weight() * pixel_area_m2 * 1e-4; }
  RECLAIM_HD double nodata_area_ha(double pixel_area_m2) const noexcept {
    return nodata_weight() * pixel_area_m2 * 1e-4;
  }
  /// Share of the zone's weight that had valid data; NaN for an empty zone.
  RECLAIM_HD double valid_fraction() const noexcept {
    double const v = weight(), t = v + nodata_weight();
    return t > 0.0 ? v / t : nan_d();
  }
};

/// Weights are held as uint64 multiples of 2^-32 in the histogram and class accumulators.
inline constexpr double kWeightQuantum = 1.0 / 4294967296.0;
/// Largest weight a single update accepts; larger ones are clamped to it.
inline constexpr double kMaxQuantizedWeight = 1048576.0;  // 2^20

/// w rounded to the nearest multiple of 2^-32 (0 for w <= 0 or NaN, w clamped to 2^20).
/// Error <= 2^-33 per update; totals may reach 2^32 units of weight (2^64 quanta).
RECLAIM_HD inline std::uint64_t quantize_weight(double w) noexcept {
  if (!(w > 0.0)) return 0;
  if (w > kMaxQuantizedWeight) w = kMaxQuantizedWeight;
  return static_cast<std::uint64_t>(w * 4294967296.0 + 0.5);
}

/**
 * @brief Fixed-bin weighted histogram over [lo, hi) for the median and percentiles.
 *
 * Bins equal-width bins of width (hi - lo) / Bins; values below lo or at/above hi go to the
 * under/overflow counters; non-finite values are ignored (count them with ValueAccumulator).
 * Start from make(lo, hi) (the zero state is not a usable range). merge() requires both sides to
 * have the same lo, hi and Bins (check with same_range()).
 *
 * percentile(p), p in [0, 100], estimates the weighted inverted-CDF percentile: the smallest
 * value x with (weight of values <= x) >= p/100 * total weight. The rank falls in one bin; the
 * estimate interpolates linearly inside it, so both the exact value and the estimate lie in
 * that bin: |error| <= bin width (plus a few ulp of max(|lo|, |hi|) from the bin arithmetic,
 * and the 2^-33 weight quantisation). A rank in the underflow/overflow returns -inf/+inf
 * ("below lo"/"above hi": widen the range). NaN for an empty histogram.
 */
template <int Bins>
struct HistogramAccumulator {
  static_assert(Bins > 0, "at least one bin");
  static constexpr int kBins = Bins;
  double m_lo;
  double m_hi;
  std::uint64_t m_under;  ///< quantised weight below lo
  std::uint64_t m_over;   ///< quantised weight at or above hi
  std::uint64_t m_bin[Bins];

  /// An empty histogram over [lo, hi); needs lo < hi, both finite.
  RECLAIM_HD static HistogramAccumulator make(double lo, double hi) noexcept {
    HistogramAccumulator h{};
    h.m_lo = lo;
    h.m_hi = hi;
    return h;
  }

  RECLAIM_HD double bin_width() const noexcept { return (m_hi - m_lo) / Bins; }
  RECLAIM_HD bool same_range(HistogramAccumulator const& o) const noexcept {
    return m_lo == o.m_lo && m_hi == o.m_hi;
  }

  /// What update(value, weight) adds and where, for a histogram over [lo, hi): returns the
  /// quantised weight (0: nothing to add, the weight is not > 0 or the value not finite) and
  /// sets `cell` to -1 (underflow), Bins (overflow) or the bin. Static, so that a kernel can add
  /// into block-shared counters with atomics and still use this one binning rule.
  RECLAIM_HD static std::uint64_t locate(double value, double weight, double lo, double hi, int& cell) noexcept {
    cell = 0;
    std::uint64_t const q = quantize_weight(weight);
    if (q == 0 || value != value || value - value != 0.0) return 0;
    if (value < lo) {
      cell = -1;
    } else if (value >= hi) {
      cell = Bins;
    } else {
      int const k = static_cast<int>((value - lo) / (hi - lo) * Bins);
      cell = k < 0 ? 0 : (k >= Bins ? Bins - 1 : k);
    }
    return q;
  }

  RECLAIM_HD void update(double value, double weight = 1.0) noexcept {
    int cell;
    std::uint64_t const q = locate(value, weight, m_lo, m_hi, cell);
    if (q == 0) return;
    if (cell < 0) {
      m_under += q;
    } else if (cell >= Bins) {
      m_over += q;
    } else {
      m_bin[cell] += q;
    }
  }

  RECLAIM_HD void merge(HistogramAccumulator const& o) noexcept {
    m_under += o.m_under;
    m_over += o.m_over;
    for (int k = 0; k < Bins; ++k) m_bin[k] += o.m_bin[k];
  }

  /// Total quantised weight (multiples of kWeightQuantum), under/overflow included.
  RECLAIM_HD std::uint64_t total_quanta() const noexcept {
    std::uint64_t t = m_under + m_over;
    for (int k = 0; k < Bins; ++k) t += m_bin[k];
    return t;
  }
  RECLAIM_HD double total_weight() const noexcept {
    return static_cast<double>(total_quanta()) * kWeightQuantum;
  }

  RECLAIM_HD double percentile(double p) const noexcept {
    std::uint64_t const total = total_quanta();
    if (total == 0 || !(p >= 0.0) || p > 100.0) return nan_d();
    double const rank = p / 100.0 * static_cast<double>(total);
    // The first non-empty cell whose cumulative weight reaches the rank.
    double cum = static_cast<double>(m_under);
    if (m_under != 0 && cum >= rank) return -detail::inf_d();
    for (int k = 0; k < Bins; ++k) {
      if (m_bin[k] == 0) continue;
      double const before = cum;
      cum += static_cast<double>(m_bin[k]);
      if (cum >= rank) {
        double f = (rank - before) / static_cast<double>(m_bin[k]);
        f = f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f);
        return m_lo + (k + f) * bin_width();
      }
    }
    return m_over != 0 ? detail::inf_d() : m_hi;  // m_hi: only when rounding left rank > cum
  }
  RECLAIM_HD double median() const noexcept { return percentile(50.0); }
};

/**
 * @brief Weighted area per class for a class raster (classes 0..255) over one zone.
 *
 * update(cls, weight): a class outside 0..255 goes to m_invalid (excluded from fractions).
 * fraction(c) = weight of c / weight of all valid classes. majority() is the class with the
 * largest weight; ties go to the LOWEST class id; -1 for an empty zone. Weights are quantised
 * (quantize_weight), so ties and merges are exact.
 */
struct ClassAccumulator {
  static constexpr int kClasses = 256;
  std::uint64_t m_w[kClasses];  ///< quantised weight per class
  std::uint64_t m_invalid;      ///< quantised weight of out-of-range classes

  /// What update(cls, weight) adds and where: returns the quantised weight and sets `counter`
  /// to cls, or to kClasses (standing for m_invalid) outside 0..255. Static, so that a kernel
  /// can add into block-shared counters with atomics and still use this one rule.
  RECLAIM_HD static std::uint64_t locate(int cls, double weight, int& counter) noexcept {
    counter = (cls < 0 || cls >= kClasses) ? kClasses : cls;
    return quantize_weight(weight);
  }

  RECLAIM_HD void update(int cls, double weight = 1.0) noexcept {
    int k;
    std::uint64_t const q = locate(cls, weight, k);
    if (k == kClasses) {
      m_invalid += q;
    } else {
      m_w[k] += q;
    }
  }
  RECLAIM_HD void merge(ClassAccumulator const& o) noexcept {
    for (int c = 0; c < kClasses; ++c) m_w[c] += o.m_w[c];
    m_invalid += o.m_invalid;
  }
  RECLAIM_HD std::uint64_t total_quanta() const noexcept {
    std::uint64_t t = 0;
    for (int c = 0; c < kClasses; ++c) t += m_w[c];
    return t;
  }
  /// Weight (coverage-weighted pixel count) of class c; 0 outside 0..255.
  RECLAIM_HD double weight(int c) const noexcept {
    return (c < 0 || c >= kClasses) ? 0.0 : static_cast<double>(m_w[c]) * kWeightQuantum;
  }
  RECLAIM_HD double area_ha(int c, double pixel_area_m2) const noexcept {
    return weight(c) * pixel_area_m2 * 1e-4;
  }
  /// NaN for an empty zone.
  RECLAIM_HD double fraction(int c) const noexcept {
    std::uint64_t const t = total_quanta();
    if (t == 0) return nan_d();
    return (c < 0 || c >= kClasses) ? 0.0 : static_cast<double>(m_w[c]) / static_cast<double>(t);
  }
  RECLAIM_HD int majority() const noexcept {
    int best = -1;
    std::uint64_t best_w = 0;
    for (int c = 0; c < kClasses; ++c) {
      if (m_w[c] > best_w) {  // strict: an equal weight later never displaces a lower class
        best_w = m_w[c];
        best = c;
      }
    }
    return best;
  }
};

}  // namespace reclaim::pixel
