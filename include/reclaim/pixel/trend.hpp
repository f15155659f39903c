#pragma once
/** @file
 * @brief Per-pixel trend statistics over many epochs: Theil–Sen slope, Mann–Kendall test,
 * year of recovery, and the Frazier et al. (2018) recovery metrics.
 *
 * Every function here is written once and runs on both backends (g++ for the CPU, nvcc for
 * the CUDA kernel in kernels/trend_kernel.cu). A series is read through an accessor (see
 * SpanSeries, PlaneSeries): `size()`, `year(i)` (strictly increasing, double, uneven spacing
 * allowed) and `value(i)` (double; NaN or +-inf = missing epoch).
 *
 * The O(n^2) statistics keep O(1) state: no array of pair slopes. The Theil–Sen median is
 * found by exact selection by counting (see kth_pair_slope), so a thread holds a few dozen
 * scalars for any n <= kMaxEpochs and the kernel needs no local memory. The result is exactly
 * the slope (y_j - y_i) / (x_j - x_i) of one pair (or the mean of two), the value a sort of all
 * pair slopes would give, and the CPU and the GPU give it bit for bit: only IEEE-754 +, -, *, /
 * and sqrt are used (correctly rounded on both; no FMA contraction, see CMakeLists.txt), and
 * the normal tail probability uses erfc_portable/exp_portable written from those operations
 * rather than the two platforms' libm, which differ by a few ulp.
 *
 * References:
 *  - Theil, H. (1950). A rank-invariant method of linear and polynomial regression analysis.
 *    Proc. Koninklijke Nederlandse Akademie van Wetenschappen 53, 386-392, 521-525, 1397-1412.
 *  - Sen, P. K. (1968). Estimates of the regression coefficient based on Kendall's tau.
 *    J. American Statistical Association 63(324), 1379-1389.
 *  - Mann, H. B. (1945). Nonparametric tests against trend. Econometrica 13(3), 245-259.
 *  - Kendall, M. G. (1975). Rank Correlation Methods, 4th ed. Charles Griffin, London.
 *  - Frazier, R. J., Coops, N. C., Wulder, M. A., Hermosilla, T., White, J. C. (2018).
 *    Analyzing spatial and temporal variability in short-term rates of post-fire vegetation
 *    return from Landsat time series. Remote Sensing of Environment 205, 32-45.
 *  - spectral-recovery (PEOPLE-ER), the Python package whose metric definitions
 *    (dNBR/dVI, YrYr, RRI, R80P, Y2R) are followed here; docs/trend.md states them exactly.
 */
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>  // run_trend_cpu's buffers (a host function)

#include "reclaim/pixel/hd.hpp"

// The pair loops take their per-pair work as a small functor; forcing it inline keeps the
// functor's arrays in registers (no local memory on the GPU). Loops over those arrays are
// unrolled for the same reason.
#ifdef __CUDACC__
#define RECLAIM_HD_FORCEINLINE __host__ __device__ __forceinline__
#define RECLAIM_UNROLL _Pragma("unroll")
#else
#define RECLAIM_HD_FORCEINLINE inline __attribute__((always_inline))
#define RECLAIM_UNROLL _Pragma("GCC unroll 16")
#endif

namespace reclaim::pixel {

/** @brief Most epochs a trend run accepts: 1024 (a 16-day Landsat series of 40 years, or 14
 * years of 5-day Sentinel-2 scenes, fit). The bound comes from the years carried inside
 * TrendParams, which the kernel takes by value: 8 KiB of years (kernel parameters may hold up
 * to 32 KiB from CUDA 12.1 on sm_70 and later; the build targets sm_90 with CUDA 12+) plus the
 * same 8 KiB in the kernel's shared memory. Nothing else depends on n: the statistics keep O(1)
 * state per pixel and count pairs in int (n(n-1)/2 < 2^31 for n < 65536). The cost is
 * O(n^2 log n) per pixel (docs/trend.md, Throughput), so 1024 epochs are slow but exact. */
inline constexpr int kMaxEpochs = 1024;

/// Trend products, in output-plane order when all are requested.
enum class TrendOutput : std::uint8_t {
  slope,          ///< Theil–Sen slope, index units per year
  mk_s,           ///< Mann–Kendall S
  mk_z,           ///< Mann–Kendall Z (continuity corrected, tie-corrected variance)
  mk_p,           ///< two-sided p-value, erfc(|Z| / sqrt 2)
  n_valid,        ///< epochs with a finite value
  recovery_year,  ///< first year from which the pixel stays vegetated
  dvi,            ///< dVI(T) = VI(t_r + T) - VI(t_r)
  yryr,           ///< YrYr = dVI(T) / T
  rri,            ///< relative recovery indicator
  r80p,           ///< ratio to P% of the recovery target at t_r + T
  y2r,            ///< years from t_r until P% of the recovery target is first reached
};
inline constexpr int kTrendOutputCount = 11;

/// Where the recovery target of R80P and Y2R comes from.
enum class RecoveryTarget : std::uint8_t {
  pre_disturbance,  ///< mean of the pixel's valid values in [t_d - pre_years, t_d)
  reference,        ///< a value given per run or per site (e.g. a reference site's median)
};

/** @brief Disturbance and restoration timing and the recovery target (per run or per site).
 * Years are compared with the epoch years for equality, so give them the same way
 * (e.g. 2019.0 for the 2019 epoch). NaN disables the metrics that need it. */
struct RecoveryParams {
  double disturbance_year = nan_d();  ///< t_d
  double restoration_year = nan_d();  ///< t_r, start of the recovery window
  double timestep = 5.0;              ///< T, years after t_r (spectral-recovery's default 5)
  double percent = 80.0;              ///< P, percent of the target for R80P and Y2R
  RecoveryTarget target = RecoveryTarget::pre_disturbance;
  double reference_value = nan_d();   ///< target when `target == reference`
  double pre_years = 2.0;             ///< window before t_d for the pre-disturbance target
};

/** @brief Everything a backend needs for a trend pass over a tile (trivially copyable; passed
 * by value, as a __grid_constant__, to the kernel).
 *
 * Input: `epoch_count` float planes, plane e (epoch e, year `years[e]`) at in + e * stride.
 * Output: product o goes to plane `plane[o]` of the output (-1: not written).
 */
struct TrendParams {
  std::int32_t epoch_count = 0;
  double years[kMaxEpochs] = {};
  std::int32_t min_epochs = 4;        ///< fewer valid epochs: every product but n_valid is NaN
  double vegetated_threshold = 0.3;   ///< "vegetated" means value >= this (e.g. NDVI 0.3)
  RecoveryParams recovery;
  std::int32_t plane[kTrendOutputCount] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
  std::int32_t output_count = 0;

  /// Requests `o` as the next output plane (host-side helper; a repeat is ignored).
  void add_output(TrendOutput o) noexcept {
    auto const k = static_cast<int>(o);
    if (plane[k] < 0) plane[k] = output_count++;
  }
  [[nodiscard]] RECLAIM_HD bool wants(TrendOutput o) const noexcept { return plane[static_cast<int>(o)] >= 0; }
};

/// Every trend product of one pixel, in double precision; NaN = nodata.
struct TrendResult {
  double value[kTrendOutputCount];
  RECLAIM_HD double operator[](TrendOutput o) const noexcept { return value[static_cast<int>(o)]; }
  RECLAIM_HD double& operator[](TrendOutput o) noexcept { return value[static_cast<int>(o)]; }
};

// ---- series accessors -----------------------------------------------------------------------

/// A series in two arrays of doubles (tests, probes, per-site mean series).
struct SpanSeries {
  double const* years;
  double const* values;
  int n;
  [[nodiscard]] RECLAIM_HD int size() const noexcept { return n; }
  [[nodiscard]] RECLAIM_HD double year(int i) const noexcept { return years[i]; }
  [[nodiscard]] RECLAIM_HD double value(int i) const noexcept { return values[i]; }
};

/// One pixel of a tile of float epoch planes: epoch e at first[e * stride].
struct PlaneSeries {
  double const* years;
  float const* first;
  std::size_t stride;
  int n;
  [[nodiscard]] RECLAIM_HD int size() const noexcept { return n; }
  [[nodiscard]] RECLAIM_HD double year(int i) const noexcept { return years[i]; }
  [[nodiscard]] RECLAIM_HD double value(int i) const noexcept {
    return static_cast<double>(first[static_cast<std::size_t>(i) * stride]);
  }
};

// ---- portable special functions ---------------------------------------------------------------

/// Finite (not NaN, not +-inf): inf - inf and NaN - NaN are NaN.
RECLAIM_HD inline bool is_finite(double v) noexcept { return v - v == 0.0; }

namespace detail {


/// Maps doubles to unsigned integers in the same order (-0.0 just below +0.0), so that a
/// bisection in key space halves the number of representable doubles in a bracket.
RECLAIM_HD inline std::uint64_t order_key(double d) noexcept {
  std::uint64_t const u = double_bits(d);
  return (u >> 63) != 0u ? ~u : (u | (std::uint64_t{1} << 63));
}
RECLAIM_HD inline double from_order_key(std::uint64_t k) noexcept {
  return bits_double((k >> 63) != 0u ? (k & ~(std::uint64_t{1} << 63)) : ~k);
}

/// floor for |v| < 2^52 with + and - only (no libm call, identical on both platforms).
RECLAIM_HD inline double floor_small(double v) noexcept {
  double const two52 = 4503599627370496.0;
  double t = v >= 0.0 ? (v + two52) - two52 : (v - two52) + two52;  // round to integer
  return t > v ? t - 1.0 : t;
}

}  // namespace detail

/** @brief e^a from +, -, *, / only, so both backends round it identically.
 *
 * a = k ln2 + r, |r| <= ln2/2, with ln2 split in two (fdlibm's ln2_hi has 21 trailing zero
 * bits, so k * ln2_hi is exact); e^r by its Taylor polynomial of degree 13 (truncation
 * < 4e-18 relative); 2^k built from the exponent bits. Relative error a few 1e-16.
 * Underflows to 0 below -708 (no subnormal results), overflows to +inf above 709.78.
 */
RECLAIM_HD inline double exp_portable(double a) noexcept {
  if (a != a) return a;
  if (a < -708.0) return 0.0;
  if (a > 709.782712893384) return __builtin_huge_val();
  double const log2e = 1.4426950408889634;
  double const ln2_hi = 6.93147180369123816490e-01;
  double const ln2_lo = 1.90821492927058770002e-10;
  double const kf = detail::floor_small(a * log2e + 0.5);
  double const r = (a - kf * ln2_hi) - kf * ln2_lo;
  double p = 1.0;
  for (int d = 13; d >= 1; --d) p = 1.0 + p * r / static_cast<double>(d);
  auto const k = static_cast<std::int64_t>(kf);  // in [-1022, 1024]
  if (k > 1023) return p * 2.0 * bits_double(static_cast<std::uint64_t>(k - 1 + 1023) << 52);
  return p * bits_double(static_cast<std::uint64_t>(k + 1023) << 52);
}

/** @brief e^{-a^2} without the error of rounding a^2 (which, for a = 26, would be 7e-14
 * relative): a = z + (a - z) with z = a cut to 21 significant bits, so z^2 is exact and
 * e^{-a^2} = e^{-z^2} e^{(z - a)(z + a)} (the split fdlibm's erfc uses). */
RECLAIM_HD inline double exp_minus_square(double a) noexcept {
  double const z = bits_double(double_bits(a) & 0xffffffff00000000ull);
  return exp_portable(-z * z) * exp_portable((z - a) * (z + a));
}

/** @brief Complementary error function from +, -, *, / and exp_portable (bit-identical on
 * both backends; std::erfc and CUDA's erfc differ by up to a few ulp).
 *
 *  - 0 <= x < 1.5: erfc = 1 - erf, erf(x) = (2/sqrt(pi)) e^{-x^2} sum_k x (2x^2)^k / (2k+1)!!
 *    (a series of positive terms, 40 terms);
 *  - x >= 1.5: Laplace's continued fraction
 *    erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
 *    evaluated backwards from a fixed depth (100, 50 or 30 terms by range);
 *  - x < 0: 2 - erfc(-x); x > 27: 0.
 * Relative error below 1e-14 for 0 <= x <= 26 (checked against std::erfc in
 * tests/pixel/trend_test.cpp).
 */
RECLAIM_HD inline double erfc_portable(double x) noexcept {
  if (x != x) return x;
  bool const negative = x < 0.0;
  double const a = negative ? -x : x;
  double const sqrt_pi = 1.7724538509055160273;
  double r;
  if (a < 1.5) {
    double const x2 = 2.0 * a * a;
    double t = a, s = a;
    for (int k = 1; k <= 40; ++k) {
      t = t * x2 / static_cast<double>(2 * k + 1);
      s += t;
    }
    r = 1.0 - (2.0 / sqrt_pi) * exp_minus_square(a) * s;
  } else if (a > 27.0) {
    r = 0.0;
  } else {
    int const depth = a < 2.0 ? 100 : (a < 3.0 ? 50 : 30);
    double f = a;
    for (int k = depth; k >= 1; --k) f = a + (0.5 * static_cast<double>(k)) / f;
    r = exp_minus_square(a) / (sqrt_pi * f);
  }
  return negative ? 2.0 - r : r;
}

// ---- Mann–Kendall and the pair statistics of one pass -----------------------------------------

/// Kendall's tie term t(t-1)(2t+5) for a group of t equal values.
RECLAIM_HD inline std::int64_t mk_tie_term(std::int64_t t) noexcept { return t * (t - 1) * (2 * t + 5); }

/** @brief What one pass over all pairs i < j of valid epochs gathers: the Mann–Kendall S and
 * tie sum, and the count, range and a rough centre of the pair slopes (the start of the
 * Theil–Sen search).
 */
struct PairSummary {
  int n_valid = 0;
  int pairs = 0;              ///< pairs with both values valid and distinct years
  std::int64_t s = 0;         ///< sum over pairs of sign(x_j - x_i) sign(y_j - y_i)
  std::int64_t tie_sum = 0;   ///< sum over groups of equal values of t(t-1)(2t+5)
  double slope_min = 0.0;
  double slope_max = 0.0;
  double sxx = 0.0;           ///< sums over the slope pairs of dx^2, dx dy and dy^2
  double sxy = 0.0;
  double syy = 0.0;

  /// Mean and standard deviation of the pair slopes weighted by dx^2 (the mean is the
  /// least-squares slope). Only a guess where the median lies: pairs far apart in time, whose
  /// slopes crowd around the median, weigh most, so the spread is about the median's
  /// neighbourhood rather than the heavy tails of the slopes of adjacent epochs.
  [[nodiscard]] RECLAIM_HD double weighted_mean() const noexcept { return sxy / sxx; }
  [[nodiscard]] RECLAIM_HD double weighted_spread() const noexcept {
    double const m = sxy / sxx;
    double const v = syy / sxx - m * m;
    return v > 0.0 ? sqrt(v) : 0.0;
  }
};

template <class Series>
RECLAIM_HD inline PairSummary summarize_pairs(Series const& s) noexcept {
  PairSummary r;
  int const n = s.size();
  double lo = 0.0, hi = 0.0;
  for (int i = 0; i < n; ++i) {
    double const yi = s.value(i);
    if (!is_finite(yi)) continue;
    ++r.n_valid;
    double const xi = s.year(i);
    // Equal values after i: a group of t equal values is met with t-1, t-2, ..., 0 later
    // equals, and the telescoping sum of tie_term(m+1) - tie_term(m) over those is
    // tie_term(t): the group's tie term without storing the groups.
    std::int64_t later_equal = 0;
    for (int j = i + 1; j < n; ++j) {
      double const yj = s.value(j);
      if (!is_finite(yj)) continue;
      double const dy = yj - yi;
      if (dy == 0.0) ++later_equal;
      double const dx = s.year(j) - xi;
      if (dx == 0.0) continue;
      int const sy = (dy > 0.0) - (dy < 0.0);
      r.s += dx > 0.0 ? sy : -sy;
      r.sxx += dx * dx;
      r.sxy += dx * dy;
      r.syy += dy * dy;
      double const slope = dy / dx;
      if (r.pairs == 0) {
        lo = hi = slope;
      } else {
        lo = slope < lo ? slope : lo;
        hi = slope > hi ? slope : hi;
      }
      ++r.pairs;
    }
    r.tie_sum += mk_tie_term(later_equal + 1) - mk_tie_term(later_equal);
  }
  r.slope_min = lo;
  r.slope_max = hi;
  return r;
}

/// Mann–Kendall test result.
struct MannKendall {
  double s = 0.0;
  double variance = 0.0;
  double z = 0.0;
  double p = 1.0;
};

/** @brief Mann (1945) / Kendall (1975) test from S, the number of values n and the tie sum.
 *
 *   var(S) = [n(n-1)(2n+5) - sum_groups t(t-1)(2t+5)] / 18
 *   Z = (S - 1)/sqrt(var) if S > 0;  0 if S = 0;  (S + 1)/sqrt(var) if S < 0
 *   p = erfc(|Z| / sqrt 2)   (two-sided, normal approximation)
 * When var(S) = 0 (every value equal, or n < 2), S = 0 and Z = 0, p = 1.
 */
RECLAIM_HD inline MannKendall mann_kendall(std::int64_t s, int n, std::int64_t tie_sum) noexcept {
  MannKendall m;
  std::int64_t const nn = n;
  std::int64_t const numerator = nn * (nn - 1) * (2 * nn + 5) - tie_sum;  // exact in int64
  m.s = static_cast<double>(s);
  m.variance = static_cast<double>(numerator) / 18.0;
  if (s == 0 || numerator <= 0) return m;
  double const sd = sqrt(m.variance);
  m.z = s > 0 ? static_cast<double>(s - 1) / sd : static_cast<double>(s + 1) / sd;
  double const abs_z = m.z < 0.0 ? -m.z : m.z;
  m.p = erfc_portable(abs_z / 1.4142135623730951);
  return m;
}

// ---- Theil–Sen: exact selection among the pair slopes by counting ------------------------------

/// Calls visit(slope) for every pair i < j with both values finite and x_i != x_j.
template <class Series, class Visit>
RECLAIM_HD_FORCEINLINE void for_each_pair_slope(Series const& s, Visit& visit) noexcept {
  int const n = s.size();
  for (int i = 0; i + 1 < n; ++i) {
    double const yi = s.value(i);
    if (!is_finite(yi)) continue;
    double const xi = s.year(i);
    for (int j = i + 1; j < n; ++j) {
      double const yj = s.value(j);
      if (!is_finite(yj)) continue;
      double const dx = s.year(j) - xi;
      if (dx == 0.0) continue;
      visit((yj - yi) / dx);
    }
  }
}

/// A bracket of the pair slopes: `inside` slopes lie in [lo, hi], `below` slopes under lo.
struct SlopeBracket {
  double lo;
  double hi;
  int below;
  int inside;
};

namespace detail {

/// The largest double below t, so that "v <= below_double(t)" is exactly "v < t" for every
/// double v (a zero t maps to the largest negative double: -0.0 and +0.0 compare equal).
RECLAIM_HD inline double below_double(double t) noexcept {
  return t == 0.0 ? -bits_double(1u) : from_order_key(order_key(t) - 1u);
}

/// One counting pass over the slopes in [lo, hi]: their number and extremes, and how many
/// lie below each threshold t[q]. The arrays are indexed with compile-time constants after
/// unrolling, so they live in registers. Branch-free per threshold: which side of it a slope
/// falls is a coin toss for a branch predictor, and divergence on the GPU.
template <int M>
struct RankCounter {
  double lo, hi;
  double t[M];
  int below[M];
  int inside;
  double min, max;

  RECLAIM_HD_FORCEINLINE void operator()(double v) noexcept {
    if (!(v >= lo && v <= hi)) return;
    ++inside;
    min = v < min ? v : min;
    max = v > max ? v : max;
    RECLAIM_UNROLL
    for (int q = 0; q < M; ++q) below[q] += v < t[q] ? 1 : 0;
  }
};

/// How many slopes are <= a, and the smallest slope above a.
struct CountAndNext {
  double a;
  int count_le;
  double next;
  bool found;
  RECLAIM_HD_FORCEINLINE void operator()(double v) noexcept {
    count_le += v <= a ? 1 : 0;
    if (v > a && (!found || v < next)) {
      next = v;
      found = true;
    }
  }
};

}  // namespace detail

/// Thresholds per counting pass: each pass splits the bracket M+1 ways.
inline constexpr int kSplitWays = 7;

/** @brief The k-th smallest pair slope (1-based), exactly, with O(1) state.
 *
 * Selection by counting. Invariant: the answer lies in the bracket [lo, hi], `below` slopes
 * are under lo and `inside` in [lo, hi]. A pass over all pairs counts the bracket's slopes
 * below M thresholds in (lo, hi] and finds the bracket's smallest and largest slope; rank
 * r = k - below is then the smallest or largest (r = 1 or r = inside: done), or every slope
 * inside is equal (done), or the bracket shrinks to the piece between two thresholds that
 * holds rank r, clipped to the extremes. It ends when lo == hi. The first pass may centre its
 * thresholds on a guess (theil_sen_slope gives the dx^2-weighted mean and spread of the
 * slopes): the slopes of adjacent epochs have heavy tails, so even splits of [min, max] would
 * leave most slopes in one piece. Later thresholds are spaced evenly
 * in value (fast for the smooth slope distributions of real series) or, after two passes in a
 * row that did not halve the count inside, evenly in the ordered bit patterns of the doubles
 * between lo and hi (a split in value space could take hundreds of passes on slopes spread
 * over hundreds of orders of magnitude; one in bit patterns shrinks the 2^64 keys M+1 times a
 * pass). So any input needs fewer than ~11 + 2 * 64 / log2(M+1) + 2 * 12 passes; every pass
 * strictly shrinks the bracket.
 */
template <class Series, int M = kSplitWays>
RECLAIM_HD inline double kth_pair_slope(Series const& s, SlopeBracket b, int k, double guess = nan_d(),
                                        double guess_spread = 0.0) noexcept {
  int poor = 0;  // passes in a row that did not halve the count inside
  for (int pass = 0; b.lo != b.hi && pass < 256; ++pass) {
    bool by_bits = poor >= 2;
    detail::RankCounter<M> c;
    c.lo = b.lo;
    c.hi = b.hi;
    c.inside = 0;
    c.min = b.hi;
    c.max = b.lo;
    bool guessed = false;
    if (pass == 0 && is_finite(guess) && is_finite(guess_spread)) {
      // First pass around the guess, closer together near it: z = 2u - 1 for u = q/(M+1),
      // offsets 2.5 z|z| spreads (about -1.4 .. 1.4 for M = 7).
      RECLAIM_UNROLL
      for (int q = 0; q < M; ++q) {
        double const z = 2.0 * (static_cast<double>(q + 1) / static_cast<double>(M + 1)) - 1.0;
        double const t = guess + guess_spread * (2.5 * z * (z < 0.0 ? -z : z));
        c.t[q] = t > b.hi ? b.hi : t;
      }
      guessed = is_finite(c.t[M - 1]) && is_finite(c.t[0]);
    }
    if (!by_bits && !guessed) {
      double const span = b.hi - b.lo;
      RECLAIM_UNROLL
      for (int q = 0; q < M; ++q) {
        double const t = b.lo + span * (static_cast<double>(q + 1) / static_cast<double>(M + 1));
        c.t[q] = t > b.hi ? b.hi : t;
      }
      // A span that overflows, or so narrow that the first threshold rounds onto lo.
      by_bits = !is_finite(span) || !(c.t[0] > b.lo);
    }
    if (by_bits) {
      std::uint64_t const klo = detail::order_key(b.lo), khi = detail::order_key(b.hi);
      std::uint64_t const step = (khi - klo) / static_cast<std::uint64_t>(M + 1);
      RECLAIM_UNROLL
      for (int q = 0; q < M; ++q) {
        std::uint64_t const key =
            klo + (step != 0u ? step * static_cast<std::uint64_t>(q + 1) : static_cast<std::uint64_t>(q + 1));
        c.t[q] = detail::from_order_key(key < khi ? key : khi);
      }
    }
    RECLAIM_UNROLL
    for (int q = 0; q < M; ++q) c.below[q] = 0;
    for_each_pair_slope(s, c);

    int const rank = k - b.below;  // 1 <= rank <= inside
    if (rank <= 1 || c.min == c.max) return c.min;
    if (rank >= c.inside) return c.max;
    // The piece that holds rank r: above the last threshold with fewer than r slopes below
    // it, below the first with at least r.
    SlopeBracket next{c.min, c.max, b.below, 0};
    int upper = c.inside;
    RECLAIM_UNROLL
    for (int q = 0; q < M; ++q) {
      if (c.below[q] < rank && c.t[q] > next.lo) {
        next.lo = c.t[q];
        next.below = b.below + c.below[q];
      }
    }
    RECLAIM_UNROLL
    for (int q = M - 1; q >= 0; --q) {
      if (c.below[q] >= rank) {
        double const hi = detail::below_double(c.t[q]);
        next.hi = hi < c.max ? hi : c.max;
        upper = c.below[q];
      }
    }
    next.inside = b.below + upper - next.below;
    poor = 2 * next.inside > c.inside ? poor + 1 : 0;
    b = next;
  }
  return b.lo;
}

/** @brief Theil (1950) – Sen (1968) slope: the median of (y_j - y_i)/(x_j - x_i) over pairs of
 * valid epochs with x_i != x_j (as scipy.stats.theilslopes); the mean of the two middle
 * slopes when their number is even. NaN without any pair. `summary` is from summarize_pairs.
 */
template <class Series>
RECLAIM_HD inline double theil_sen_slope(Series const& s, PairSummary const& summary) noexcept {
  int const n = summary.pairs;
  if (n == 0) return nan_d();
  SlopeBracket const all{summary.slope_min, summary.slope_max, 0, n};
  // "+ 0.0" turns a median of -0.0 (a zero slope with a negative-zero difference) into +0.0,
  // so that equal series give equal bits whichever zero the selection met first.
  double const guess = summary.weighted_mean(), spread = summary.weighted_spread();
  if (n % 2 == 1) return kth_pair_slope(s, all, (n + 1) / 2, guess, spread) + 0.0;
  // Even: the mean of ranks n/2 and n/2 + 1; the second is the first again when it is
  // repeated, else the smallest slope above it (one more pass).
  double const a = kth_pair_slope(s, all, n / 2, guess, spread);
  detail::CountAndNext next{a, 0, a, false};
  for_each_pair_slope(s, next);
  double const b = next.count_le >= n / 2 + 1 ? a : next.next;
  return (a + b) * 0.5 + 0.0;
}

// ---- recovery --------------------------------------------------------------------------------

/** @brief First year from which the pixel stays vegetated: the earliest valid epoch such that
 * it and every later valid epoch have value >= threshold. Missing epochs neither break nor
 * start the run. NaN when the last valid epoch is not vegetated (never recovered) or there
 * is no valid epoch; the first valid year when every valid epoch is vegetated.
 */
template <class Series>
RECLAIM_HD inline double recovery_year(Series const& s, double threshold) noexcept {
  double year = nan_d();
  for (int i = s.size() - 1; i >= 0; --i) {
    double const v = s.value(i);
    if (!is_finite(v)) continue;
    if (!(v >= threshold)) break;
    year = s.year(i);
  }
  return year;
}

/// The value of the epoch whose year equals `year`; NaN when there is none or it is missing.
template <class Series>
RECLAIM_HD inline double value_at_year(Series const& s, double year) noexcept {
  for (int i = 0; i < s.size(); ++i)
    if (s.year(i) == year) {
      double const v = s.value(i);
      return is_finite(v) ? v : nan_d();
    }
  return nan_d();
}

/// Recovery metrics of one pixel (NaN where undefined).
struct RecoveryMetrics {
  double dvi = nan_d();
  double yryr = nan_d();
  double rri = nan_d();
  double r80p = nan_d();
  double y2r = nan_d();
  double target = nan_d();
};

/** @brief The recovery target: the reference value, or the mean of the pixel's valid values
 * with t_d - pre_years <= year < t_d (NaN when that window has none). */
template <class Series>
RECLAIM_HD inline double recovery_target(Series const& s, RecoveryParams const& r) noexcept {
  if (r.target == RecoveryTarget::reference) return r.reference_value;
  double sum = 0.0;
  int count = 0;
  for (int i = 0; i < s.size(); ++i) {
    double const y = s.year(i), v = s.value(i);
    if (y >= r.disturbance_year - r.pre_years && y < r.disturbance_year && is_finite(v)) {
      sum += v;
      ++count;
    }
  }
  return count == 0 ? nan_d() : sum / static_cast<double>(count);
}

/** @brief Recovery metrics after Frazier et al. (2018), as spectral-recovery defines them, with
 * t_d the disturbance year, t_r the restoration start, T the timestep and VI(t) the value of
 * the epoch of year t:
 *
 *   dVI  = VI(t_r + T) - VI(t_r)
 *   YrYr = dVI / T
 *   RRI  = (max(VI(t_r + T - 1), VI(t_r + T)) - VI(t_r)) / (VI(t_d) - VI(t_r))
 *          (the max skips a missing epoch; NaN when the denominator is 0)
 *   R80P = VI(t_r + T) / (P/100 * target)
 *   Y2R  = year - t_r of the first valid epoch with year >= t_r and VI >= P/100 * target
 *          (NaN when never reached)
 */
template <class Series>
RECLAIM_HD inline RecoveryMetrics recovery_metrics(Series const& s, RecoveryParams const& r) noexcept {
  RecoveryMetrics m;
  double const t_r = r.restoration_year, t_end = r.restoration_year + r.timestep;
  double const v_r = value_at_year(s, t_r);
  double const v_end = value_at_year(s, t_end);
  double const v_before_end = value_at_year(s, t_end - 1.0);
  double const v_d = value_at_year(s, r.disturbance_year);
  m.dvi = v_end - v_r;
  m.yryr = r.timestep > 0.0 ? m.dvi / r.timestep : nan_d();
  double const best = is_finite(v_end) ? (is_finite(v_before_end) && v_before_end > v_end ? v_before_end : v_end)
                                       : v_before_end;
  double const magnitude = v_d - v_r;
  m.rri = magnitude == 0.0 ? nan_d() : (best - v_r) / magnitude;
  m.target = recovery_target(s, r);
  double const goal = r.percent / 100.0 * m.target;
  m.r80p = goal == 0.0 ? nan_d() : v_end / goal;
  if (is_finite(goal)) {
    for (int i = 0; i < s.size(); ++i) {
      double const y = s.year(i), v = s.value(i);
      if (y >= t_r && is_finite(v) && v >= goal) {
        m.y2r = y - t_r;
        break;
      }
    }
  }
  return m;
}

// ---- everything for one pixel ------------------------------------------------------------------

/** @brief Every trend product of one series. Pixels with fewer than max(min_epochs, 2) valid
 * epochs are nodata (NaN) in every product except n_valid. The Theil–Sen search (the costly
 * part) runs only when `with_slope`. */
template <class Series>
RECLAIM_HD inline TrendResult compute_trend(Series const& s, TrendParams const& p, bool with_slope = true) noexcept {
  TrendResult out;
RECLAIM_UNROLL
  for (int o = 0; o < kTrendOutputCount; ++o) out.value[o] = nan_d();
  PairSummary const summary = summarize_pairs(s);
  out[TrendOutput::n_valid] = static_cast<double>(summary.n_valid);
  int const min_epochs = p.min_epochs < 2 ? 2 : p.min_epochs;
  if (summary.n_valid < min_epochs) return out;

  MannKendall const mk = mann_kendall(summary.s, summary.n_valid, summary.tie_sum);
  out[TrendOutput::mk_s] = mk.s;
  out[TrendOutput::mk_z] = mk.z;
  out[TrendOutput::mk_p] = mk.p;
  if (with_slope) out[TrendOutput::slope] = theil_sen_slope(s, summary);
  out[TrendOutput::recovery_year] = recovery_year(s, p.vegetated_threshold);
  RecoveryMetrics const rm = recovery_metrics(s, p.recovery);
  out[TrendOutput::dvi] = rm.dvi;
  out[TrendOutput::yryr] = rm.yryr;
  out[TrendOutput::rri] = rm.rri;
  out[TrendOutput::r80p] = rm.r80p;
  out[TrendOutput::y2r] = rm.y2r;
  return out;
}

/// Writes the requested products of one pixel: product o to out + p.plane[o] * stride + i.
template <class Out>
RECLAIM_HD inline void store_trend(TrendParams const& p, TrendResult const& r, Out* out, std::size_t stride,
                                   std::size_t i) noexcept {
  RECLAIM_UNROLL
  for (int o = 0; o < kTrendOutputCount; ++o) {
    int const plane = p.plane[o];
    if (plane >= 0) out[static_cast<std::size_t>(plane) * stride + i] = static_cast<Out>(r.value[o]);
  }
}

/** @brief Trend products of pixel i of a tile (the kernel's per-thread work): epoch planes
 * at in + e * stride, requested products to out + p.plane[o] * stride. `years` is p.years or
 * a copy of it (the kernel keeps one in shared memory). Out is float (products) or double
 * (tests). The series is read straight from the planes: on the GPU, neighbouring threads read
 * neighbouring pixels, so each of those reads is coalesced. */
template <class Out>
RECLAIM_HD inline void compute_trend_pixel(TrendParams const& p, double const* years, float const* in, Out* out,
                                           std::size_t stride, std::size_t i) noexcept {
  PlaneSeries const series{years, in + i, stride, p.epoch_count};
  store_trend(p, compute_trend(series, p, p.wants(TrendOutput::slope)), out, stride, i);
}

/** @brief The CPU reference over a tile: compute_trend per pixel on the same values (float ->
 * double is exact), so the products are bit-identical to the kernel's.
 *
 * Only the reading differs from compute_trend_pixel. The planes of one tile are `pixels`
 * floats apart, a stride that maps every epoch of a pixel to the same L1 set, so blocks of 16
 * pixels (one cache line per epoch) are first copied into a small pixel-major buffer; and a
 * pixel's missing epochs are dropped from its copy, which spares the pair loops an
 * unpredictable branch per pair. Dropping them changes nothing: every function above skips a
 * missing epoch, visits the rest in the same order and looks epochs up by year (tested in
 * tests/pixel/trend_test.cpp against compute_trend_pixel on the full planes). CpuBackend
 * splits tiles between threads. */
template <class Out>
inline void run_trend_cpu(TrendParams const& p, float const* in, Out* out, std::size_t pixels) noexcept {
  constexpr std::size_t kBlock = 16;
  int const n = p.epoch_count;
  bool const with_slope = p.wants(TrendOutput::slope);
  // Pixel b's epochs at [b * n, b * n + valid[b]), sized by n: at kMaxEpochs the two buffers
  // (256 KiB) do not belong on a worker thread's stack. Kept per thread, so tiles reuse them.
  thread_local std::vector<double> value_buffer, year_buffer;
  value_buffer.resize(kBlock * static_cast<std::size_t>(n));
  year_buffer.resize(kBlock * static_cast<std::size_t>(n));
  double* const values = value_buffer.data();
  double* const years = year_buffer.data();
  int valid[kBlock];
  for (std::size_t first = 0; first < pixels; first += kBlock) {
    std::size_t const count = pixels - first < kBlock ? pixels - first : kBlock;
    for (std::size_t b = 0; b < count; ++b) valid[b] = 0;
    for (int e = 0; e < n; ++e) {
      float const* plane = in + static_cast<std::size_t>(e) * pixels + first;
      for (std::size_t b = 0; b < count; ++b) {
        double const v = static_cast<double>(plane[b]);
        std::size_t const k = b * static_cast<std::size_t>(n) + static_cast<std::size_t>(valid[b]);
        values[k] = v;
        years[k] = p.years[e];
        valid[b] += is_finite(v) ? 1 : 0;
      }
    }
    for (std::size_t b = 0; b < count; ++b) {
      std::size_t const row = b * static_cast<std::size_t>(n);
      store_trend(p, compute_trend(SpanSeries{years + row, values + row, valid[b]}, p, with_slope), out, pixels,
                  first + b);
    }
  }
}

}  // namespace reclaim::pixel
