// Trend statistics (include/reclaim/pixel/trend.hpp) against hand-worked series, a brute-force
// sort of all pair slopes, std::erfc/std::exp, and hand-worked recovery metrics. The scipy
// comparison on random series is tests/pixel/test_trend_scipy.py (through trend_probe).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "reclaim/pixel/trend.hpp"

namespace {

using namespace reclaim::pixel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Series {
  std::vector<double> x, y;
  [[nodiscard]] SpanSeries view() const { return {x.data(), y.data(), static_cast<int>(x.size())}; }
};

Series consecutive(double first_year, std::vector<double> values) {
  Series s;
  for (std::size_t i = 0; i < values.size(); ++i) s.x.push_back(first_year + static_cast<double>(i));
  s.y = std::move(values);
  return s;
}

double theil_sen(Series const& s) { return theil_sen_slope(s.view(), summarize_pairs(s.view())); }

/// Independent oracle: every pair slope in a vector, sorted, median (mean of the two middle).
double sorted_median_slope(Series const& s) {
  std::vector<double> slopes;
  for (std::size_t i = 0; i < s.x.size(); ++i)
    for (std::size_t j = i + 1; j < s.x.size(); ++j) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.y[j]) || s.x[j] == s.x[i]) continue;
      slopes.push_back((s.y[j] - s.y[i]) / (s.x[j] - s.x[i]));
    }
  if (slopes.empty()) return kNaN;
  std::sort(slopes.begin(), slopes.end());
  std::size_t const n = slopes.size();
  return n % 2 == 1 ? slopes[n / 2] : (slopes[n / 2 - 1] + slopes[n / 2]) * 0.5;
}

bool same_bits(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// Same value: bit-identical, except that the sort may put -0.0 or +0.0 in the middle (they
/// compare equal) while theil_sen_slope always returns +0.0.
bool same_value(double a, double b) { return a == b ? true : same_bits(a, b); }

// ---- Theil–Sen ---------------------------------------------------------------------------------

TEST(TheilSen, HandWorkedFourEpochsWithTie) {
  // Pair slopes: (2020-2019) 0.2, (2021-2019) 0.1, (2022-2019) 0.5/3, (2021-2020) 0,
  // (2022-2020) 0.15, (2022-2021) 0.3. Sorted: 0, 0.1, 0.15, 0.1667, 0.2, 0.3; even count,
  // so the median is (0.15 + 0.16667) / 2 = 0.158333...
  Series const s = consecutive(2019, {0.2, 0.4, 0.4, 0.7});
  EXPECT_NEAR(theil_sen(s), 0.15833333333333333, 1e-15);

  // Mann–Kendall: five increasing pairs and one tie, S = 5. One tie group of t = 2:
  // 2*1*9 = 18. var = (4*3*13 - 18)/18 = 138/18. Z = (5 - 1)/sqrt(var) = 1.44463...
  // p = erfc(Z / sqrt 2) = 0.148561...
  PairSummary const sum = summarize_pairs(s.view());
  EXPECT_EQ(sum.n_valid, 4);
  EXPECT_EQ(sum.pairs, 6);
  EXPECT_EQ(sum.s, 5);
  EXPECT_EQ(sum.tie_sum, 18);
  MannKendall const mk = mann_kendall(sum.s, sum.n_valid, sum.tie_sum);
  EXPECT_DOUBLE_EQ(mk.variance, 138.0 / 18.0);
  EXPECT_NEAR(mk.z, 1.4446302370292303, 1e-14);
  EXPECT_NEAR(mk.p, 0.1485617748918687, 1e-14);
  EXPECT_NEAR(mk.p, std::erfc(4.0 / std::sqrt(138.0 / 18.0) / std::sqrt(2.0)), 1e-14);
}

TEST(TheilSen, OddCountUnevenYearsAndMissingEpochs) {
  // Valid: (2000, 1), (2003, 2), (2010, 4); 2001 is NaN and 2006 is +inf (both missing).
  // Slopes 1/3, 3/10, 2/7 -> median 0.3. S = 3; var = 3*2*11/18; Z = 2/sqrt(var).
  Series const s{{2000, 2001, 2003, 2006, 2010}, {1, kNaN, 2, kInf, 4}};
  EXPECT_DOUBLE_EQ(theil_sen(s), 0.3);
  PairSummary const sum = summarize_pairs(s.view());
  EXPECT_EQ(sum.n_valid, 3);
  EXPECT_EQ(sum.s, 3);
  EXPECT_EQ(sum.tie_sum, 0);
  MannKendall const mk = mann_kendall(sum.s, sum.n_valid, sum.tie_sum);
  EXPECT_NEAR(mk.z, 1.044465935734187, 1e-14);
  EXPECT_NEAR(mk.p, 0.2962698714842864, 1e-14);
}

TEST(TheilSen, DecreasingAndConstantSeries) {
  EXPECT_DOUBLE_EQ(theil_sen(consecutive(2000, {5, 4, 3, 2, 1})), -1.0);
  EXPECT_DOUBLE_EQ(theil_sen(consecutive(2000, {0.5, 0.5, 0.5, 0.5})), 0.0);
  EXPECT_TRUE(std::isnan(theil_sen(consecutive(2000, {0.5, kNaN, kNaN}))));  // no pair
  EXPECT_TRUE(std::isnan(theil_sen(consecutive(2000, {}))));
}

// Random series up to 160 epochs (past the old limit of 64; kMaxEpochs itself is tested on
// single series below, a sort of its 523,776 pair slopes being slow).
constexpr int kLongestRandomSeries = 160;

// The counting selection must give exactly the element a full sort gives: same pairs, same
// division, so the same double.
TEST(TheilSen, EqualsSortedMedianBitForBitOnRandomSeries) {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> length(2, kLongestRandomSeries);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  int checked = 0;
  for (int t = 0; t < 3000; ++t) {
    int const n = length(rng);
    double const missing = unit(rng) < 0.3 ? 0.0 : 0.4 * unit(rng);
    double const quantum = unit(rng) < 0.4 ? 0.05 : 0.0;  // ties
    int const kind = t % 6;
    Series s;
    double year = 1990.0;
    for (int i = 0; i < n; ++i) {
      year += unit(rng) < 0.2 ? 1.0 + std::floor(3.0 * unit(rng)) : 1.0;  // uneven spacing
      s.x.push_back(year);
      double v = 0.2 + 0.01 * i + noise(rng);
      if (kind == 1 && unit(rng) < 0.1) v += 5.0 * noise(rng) * 20.0;  // outliers
      if (kind == 2) v = std::pow(10.0, -30.0 + 60.0 * unit(rng)) * (unit(rng) < 0.5 ? -1 : 1);  // huge spread
      if (kind == 3) v = unit(rng) < 0.5 ? 0.25 : 0.75;                                  // two values
      if (kind == 4) v = std::ldexp(1.0, static_cast<int>(i * 15) - 480);                 // geometric
      if (quantum > 0.0) v = std::round(v / quantum) * quantum;
      if (unit(rng) < missing) v = unit(rng) < 0.8 ? kNaN : -kInf;
      s.y.push_back(v);
    }
    double const expected = sorted_median_slope(s);
    double const actual = theil_sen(s);
    ASSERT_TRUE(same_value(expected, actual)) << "series " << t << " (n " << n << ", kind " << kind
                                             << "): sorted " << expected << " counting " << actual;
    ++checked;
  }
  EXPECT_EQ(checked, 3000);
}

TEST(TheilSen, SixtyFourEpochsOfTwoAdjacentDoubles) {
  // Slopes that differ in the last bit only: the value-space thresholds round onto lo and
  // the search has to fall back to the bit-pattern bisection.
  Series s;
  for (int i = 0; i < kMaxEpochs; ++i) {
    s.x.push_back(static_cast<double>(i));
    s.y.push_back(i * (1.0 + (i % 3 == 0 ? 0.0 : std::ldexp(1.0, -52))));
  }
  EXPECT_TRUE(same_value(theil_sen(s), sorted_median_slope(s)));
}

// ---- Mann–Kendall --------------------------------------------------------------------------

TEST(MannKendall, TieCorrectedVarianceHandWorked) {
  // Values 1 1 1 2 2 3 in time order: tie groups of 3 and 2 -> 3*2*11 + 2*1*9 = 84.
  // n = 6: 6*5*17 = 510, var = (510 - 84)/18 = 426/18. Increasing pairs: 3*2 + 3*1 + 2*1 = 11.
  Series const s = consecutive(2001, {1, 1, 1, 2, 2, 3});
  PairSummary const sum = summarize_pairs(s.view());
  EXPECT_EQ(sum.s, 11);
  EXPECT_EQ(sum.tie_sum, 84);
  MannKendall const mk = mann_kendall(sum.s, sum.n_valid, sum.tie_sum);
  EXPECT_DOUBLE_EQ(mk.variance, 426.0 / 18.0);
  EXPECT_NEAR(mk.z, 2.055566129482595, 1e-14);
  EXPECT_NEAR(mk.p, 0.039824355364810736, 1e-14);
}

TEST(MannKendall, TieSumEqualsGroupCounts) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> level(0, 5);
  std::uniform_int_distribution<int> length(1, kLongestRandomSeries);
  for (int t = 0; t < 500; ++t) {
    Series s;
    int const n = length(rng);
    std::map<double, std::int64_t> groups;
    for (int i = 0; i < n; ++i) {
      double const v = level(rng) == 0 ? kNaN : 0.1 * level(rng);
      s.x.push_back(i);
      s.y.push_back(v);
      if (!std::isnan(v)) ++groups[v];
    }
    std::int64_t expected = 0;
    for (auto const& [value, count] : groups) expected += count * (count - 1) * (2 * count + 5);
    EXPECT_EQ(summarize_pairs(s.view()).tie_sum, expected);
  }
}

TEST(MannKendall, NoTrendGivesZeroAndPOne) {
  MannKendall const equal = mann_kendall(0, 5, mk_tie_term(5));  // all five values equal: var 0
  EXPECT_EQ(equal.variance, 0.0);
  EXPECT_EQ(equal.z, 0.0);
  EXPECT_EQ(equal.p, 1.0);
  MannKendall const balanced = mann_kendall(0, 10, 0);
  EXPECT_EQ(balanced.z, 0.0);
  EXPECT_EQ(balanced.p, 1.0);
  MannKendall const down = mann_kendall(-9, 6, 0);  // (S + 1)/sqrt(6*5*17/18)
  EXPECT_NEAR(down.z, -8.0 / std::sqrt(510.0 / 18.0), 1e-14);
}

// ---- portable special functions -------------------------------------------------------------

TEST(SpecialFunctions, ErfcMatchesStdErfc) {
  double worst = 0.0;
  for (double x = -4.0; x <= 26.0; x += 0.00731) {
    double const expected = std::erfc(x);
    double const rel = std::fabs(erfc_portable(x) - expected) / expected;
    worst = std::max(worst, rel);
  }
  EXPECT_LT(worst, 1e-14);
  EXPECT_EQ(erfc_portable(0.0), 1.0);
  EXPECT_EQ(erfc_portable(30.0), 0.0);
  EXPECT_TRUE(std::isnan(erfc_portable(kNaN)));
}

TEST(SpecialFunctions, ExpMatchesStdExp) {
  double worst = 0.0;
  for (double a = -707.9; a <= 709.0; a += 0.0137) {
    double const expected = std::exp(a);
    worst = std::max(worst, std::fabs(exp_portable(a) - expected) / expected);
  }
  EXPECT_LT(worst, 1e-15);
  EXPECT_EQ(exp_portable(0.0), 1.0);
  EXPECT_EQ(exp_portable(-800.0), 0.0);
  EXPECT_TRUE(std::isinf(exp_portable(710.0)));
}

// ---- year of recovery ------------------------------------------------------------------------

TEST(RecoveryYear, EdgeCases) {
  double const thr = 0.3;
  auto year = [&](std::vector<double> v) { return recovery_year(consecutive(2018, std::move(v)).view(), thr); };
  EXPECT_EQ(year({0.5, 0.1, 0.2, 0.4, 0.5}), 2021.0);       // cleared, then vegetated from 2021
  EXPECT_EQ(year({0.5, 0.1, 0.4, 0.2, 0.5}), 2022.0);       // a relapse restarts the run
  EXPECT_TRUE(std::isnan(year({0.5, 0.6, 0.2})));           // last epoch bare: never
  EXPECT_EQ(year({0.4, 0.5, 0.6}), 2018.0);                 // always vegetated: first year
  EXPECT_EQ(year({0.1, 0.4, kNaN}), 2019.0);                // missing last epoch is skipped
  EXPECT_EQ(year({0.1, 0.4, kNaN, 0.5}), 2019.0);           // a gap does not break the run
  EXPECT_EQ(year({kNaN, 0.4, 0.5}), 2019.0);                // first valid year
  EXPECT_EQ(year({0.1, 0.3, 0.31}), 2019.0);                // == threshold counts as vegetated
  EXPECT_TRUE(std::isnan(year({kNaN, kNaN})));              // nothing valid
  EXPECT_TRUE(std::isnan(year({})));
}

// ---- recovery metrics ------------------------------------------------------------------------

Series recovery_series() {
  // 2010 2011 | 2012 disturbance | 2013 restoration start ... 2022
  return consecutive(2010, {0.70, 0.72, 0.68, 0.10, 0.15, 0.22, 0.30, 0.38, 0.45, 0.52, 0.58, 0.60, 0.63});
}

RecoveryParams recovery_params() {
  RecoveryParams r;
  r.disturbance_year = 2012;
  r.restoration_year = 2013;
  return r;  // T = 5, P = 80, pre-disturbance target over 2 years
}

TEST(RecoveryMetrics, HandWorkedPreDisturbanceTarget) {
  RecoveryMetrics const m = recovery_metrics(recovery_series().view(), recovery_params());
  EXPECT_NEAR(m.dvi, 0.35, 1e-15);                          // VI(2018) - VI(2013) = 0.45 - 0.10
  EXPECT_NEAR(m.yryr, 0.07, 1e-15);                         // 0.35 / 5
  EXPECT_NEAR(m.rri, 0.35 / 0.58, 1e-15);                   // (max(0.38, 0.45) - 0.10)/(0.68 - 0.10)
  EXPECT_NEAR(m.target, 0.71, 1e-15);                       // mean(0.70, 0.72)
  EXPECT_NEAR(m.r80p, 0.45 / (0.8 * 0.71), 1e-15);          // 0.792...
  EXPECT_EQ(m.y2r, 7.0);                                    // 0.58 >= 0.568 first in 2020
}

TEST(RecoveryMetrics, HandWorkedReferenceTarget) {
  RecoveryParams r = recovery_params();
  r.target = RecoveryTarget::reference;
  r.reference_value = 0.5;
  RecoveryMetrics const m = recovery_metrics(recovery_series().view(), r);
  EXPECT_NEAR(m.r80p, 0.45 / 0.4, 1e-15);
  EXPECT_EQ(m.y2r, 5.0);  // 0.45 >= 0.4 first in 2018
  r.percent = 100.0;
  EXPECT_EQ(recovery_metrics(recovery_series().view(), r).y2r, 6.0);  // 0.52 >= 0.5 in 2019
  r.reference_value = 0.9;
  EXPECT_TRUE(std::isnan(recovery_metrics(recovery_series().view(), r).y2r));  // never reached
}

TEST(RecoveryMetrics, MissingAndDegenerateEpochs) {
  Series s = recovery_series();
  s.y[8] = kNaN;  // 2018 = t_r + T missing
  RecoveryMetrics const m = recovery_metrics(s.view(), recovery_params());
  EXPECT_TRUE(std::isnan(m.dvi));
  EXPECT_TRUE(std::isnan(m.yryr));
  EXPECT_TRUE(std::isnan(m.r80p));
  EXPECT_NEAR(m.rri, (0.38 - 0.10) / 0.58, 1e-15);  // the max falls back to 2017
  EXPECT_EQ(m.y2r, 7.0);

  Series flat = recovery_series();
  flat.y[2] = flat.y[3];  // VI(t_d) == VI(t_r): no disturbance magnitude
  EXPECT_TRUE(std::isnan(recovery_metrics(flat.view(), recovery_params()).rri));

  RecoveryParams late = recovery_params();
  late.restoration_year = 2020;  // t_r + T = 2025 is past the series
  RecoveryMetrics const ml = recovery_metrics(recovery_series().view(), late);
  EXPECT_TRUE(std::isnan(ml.dvi));
  EXPECT_TRUE(std::isnan(ml.rri));
  EXPECT_EQ(ml.y2r, 0.0);  // 0.58 already >= 0.568 at t_r

  Series no_pre = recovery_series();
  no_pre.y[0] = no_pre.y[1] = kNaN;  // nothing in the pre-disturbance window
  RecoveryMetrics const mn = recovery_metrics(no_pre.view(), recovery_params());
  EXPECT_TRUE(std::isnan(mn.target));
  EXPECT_TRUE(std::isnan(mn.r80p));
  EXPECT_TRUE(std::isnan(mn.y2r));
  EXPECT_NEAR(mn.dvi, 0.35, 1e-15);  // dVI needs no target

  RecoveryMetrics const none = recovery_metrics(recovery_series().view(), RecoveryParams{});
  EXPECT_TRUE(std::isnan(none.dvi));
  EXPECT_TRUE(std::isnan(none.y2r));
}

// ---- one pixel, and a tile of planes ---------------------------------------------------------

TEST(ComputeTrend, FewerValidEpochsThanMinimumIsNodata) {
  TrendParams p;
  p.min_epochs = 4;
  Series const s = consecutive(2019, {0.2, kNaN, 0.4, 0.5});
  TrendResult const r = compute_trend(s.view(), p);
  EXPECT_EQ(r[TrendOutput::n_valid], 3.0);
  for (int o = 0; o < kTrendOutputCount; ++o)
    if (o != static_cast<int>(TrendOutput::n_valid)) {
      EXPECT_TRUE(std::isnan(r.value[o])) << "output " << o;
    }
  p.min_epochs = 3;
  EXPECT_DOUBLE_EQ(compute_trend(s.view(), p)[TrendOutput::slope], 0.1);  // 0.1, 0.1, 0.1
  p.min_epochs = 0;  // never below 2: one epoch has no trend
  EXPECT_TRUE(std::isnan(compute_trend(consecutive(2019, {0.2}).view(), p)[TrendOutput::mk_p]));
}

TEST(ComputeTrend, AllProductsOfTheRecoverySeries) {
  TrendParams p;
  p.recovery = recovery_params();
  p.vegetated_threshold = 0.5;
  TrendResult const r = compute_trend(recovery_series().view(), p);
  EXPECT_EQ(r[TrendOutput::n_valid], 13.0);
  EXPECT_EQ(r[TrendOutput::recovery_year], 2019.0);
  EXPECT_NEAR(r[TrendOutput::dvi], 0.35, 1e-15);
  EXPECT_EQ(r[TrendOutput::y2r], 7.0);
  EXPECT_TRUE(same_value(r[TrendOutput::slope], sorted_median_slope(recovery_series())));
}

TEST(ComputeTrendPixel, WritesRequestedPlanesOfATile) {
  constexpr std::size_t kPixels = 5;
  constexpr int kEpochs = 6;
  TrendParams p;
  p.epoch_count = kEpochs;
  for (int e = 0; e < kEpochs; ++e) p.years[e] = 2015 + e + (e >= 3 ? 1 : 0);  // 2018 missing
  p.add_output(TrendOutput::mk_p);
  p.add_output(TrendOutput::slope);
  p.add_output(TrendOutput::n_valid);
  p.add_output(TrendOutput::slope);  // a repeat is ignored
  ASSERT_EQ(p.output_count, 3);

  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-0.2f, 0.9f);
  std::vector<float> in(kPixels * kEpochs);
  for (auto& v : in) v = value(rng);
  in[1 * kPixels + 2] = std::nanf("");
  for (int e = 0; e < kEpochs; ++e) in[e * kPixels + 4] = std::nanf("");  // an empty pixel

  std::vector<double> out(kPixels * 4, -7.0);  // one plane more than requested: stays untouched
  run_trend_cpu(p, in.data(), out.data(), kPixels);
  for (std::size_t i = 0; i < kPixels; ++i) {
    Series s;
    for (int e = 0; e < kEpochs; ++e) {
      s.x.push_back(p.years[e]);
      s.y.push_back(static_cast<double>(in[e * kPixels + i]));
    }
    TrendResult const r = compute_trend(s.view(), p);
    EXPECT_TRUE(same_bits(out[0 * kPixels + i], r[TrendOutput::mk_p])) << i;
    EXPECT_TRUE(same_bits(out[1 * kPixels + i], r[TrendOutput::slope])) << i;
    EXPECT_TRUE(same_value(out[1 * kPixels + i], sorted_median_slope(s))) << i;
    EXPECT_EQ(out[2 * kPixels + i], r[TrendOutput::n_valid]) << i;
    EXPECT_EQ(out[3 * kPixels + i], -7.0);
  }
  EXPECT_EQ(out[2 * kPixels + 2], 5.0);
  EXPECT_EQ(out[2 * kPixels + 4], 0.0);
  EXPECT_TRUE(std::isnan(out[1 * kPixels + 4]));

  std::vector<float> out_f(kPixels * 3);
  run_trend_cpu(p, in.data(), out_f.data(), kPixels);
  for (std::size_t k = 0; k < out_f.size(); ++k)
    EXPECT_TRUE(std::isnan(out_f[k]) ? std::isnan(out[k]) : out_f[k] == static_cast<float>(out[k])) << k;
}

// run_trend_cpu reads blocks of pixels into a buffer and drops missing epochs; the kernel's
// compute_trend_pixel reads the full planes. Same products, bit for bit, on the host.
TEST(ComputeTrendPixel, CpuDriverEqualsKernelPathBitForBit) {
  for (int epochs : {4, 7, 40, 64, 105, kMaxEpochs}) {
    std::mt19937 rng(900u + static_cast<unsigned>(epochs));
    std::uniform_real_distribution<float> unit(0.f, 1.f);
    std::normal_distribution<float> noise(0.f, 0.06f);
    TrendParams p;
    p.epoch_count = epochs;
    for (int e = 0; e < epochs; ++e) p.years[e] = 1980 + e + (e > epochs / 2 ? 2 : 0);
    p.recovery.disturbance_year = p.years[epochs / 4];
    p.recovery.restoration_year = p.years[epochs / 4 + 1];
    p.recovery.timestep = 2.0;
    for (int o = kTrendOutputCount - 1; o >= 0; --o) p.add_output(static_cast<TrendOutput>(o));
    // A ragged last block; few pixels at kMaxEpochs (each takes milliseconds).
    std::size_t const pixels = epochs > 200 ? 37 : 1000 + static_cast<std::size_t>(epochs);
    std::vector<float> in(static_cast<std::size_t>(epochs) * pixels);
    for (std::size_t i = 0; i < pixels; ++i) {
      bool const ties = unit(rng) < 0.3f;
      float const missing = unit(rng) < 0.05f ? 1.f : 0.3f * unit(rng);
      for (int e = 0; e < epochs; ++e) {
        float v = 0.2f + 0.01f * static_cast<float>(e) * unit(rng) + noise(rng);
        if (ties) v = std::round(v * 20.f) / 20.f;
        if (unit(rng) < missing) v = unit(rng) < 0.9f ? std::nanf("") : -INFINITY;
        in[static_cast<std::size_t>(e) * pixels + i] = v;
      }
    }
    std::vector<double> driver(static_cast<std::size_t>(p.output_count) * pixels);
    std::vector<double> kernel_path(driver.size());
    run_trend_cpu(p, in.data(), driver.data(), pixels);
    for (std::size_t i = 0; i < pixels; ++i) compute_trend_pixel(p, p.years, in.data(), kernel_path.data(), pixels, i);
    std::size_t mismatches = 0, slopes = 0;
    for (std::size_t k = 0; k < driver.size(); ++k) {
      if (!same_bits(driver[k], kernel_path[k]) && mismatches++ < 5)
        ADD_FAILURE() << epochs << " epochs, output " << k / pixels << " pixel " << k % pixels << ": "
                      << driver[k] << " vs " << kernel_path[k];
    }
    for (std::size_t i = 0; i < pixels; ++i)
      slopes += std::isfinite(driver[static_cast<std::size_t>(p.plane[0]) * pixels + i]) ? 1 : 0;
    EXPECT_EQ(mismatches, 0u) << epochs << " epochs";
    EXPECT_GT(slopes, pixels / 2) << epochs << " epochs";  // not a comparison of NaNs
  }
}

}  // namespace
