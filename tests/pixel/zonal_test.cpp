// Zonal accumulators: hand-worked values, a float64 two-pass reference, merge-order invariance
// (1 pass vs 100 chunks vs 4 shards), histogram percentiles against exact sorted percentiles,
// class majorities, and the serialisation format.
#include "reclaim/pixel/zonal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <type_traits>
#include <vector>

#include "reclaim/error.hpp"
#include "reclaim/zonal_io.hpp"

namespace {

using reclaim::pixel::ClassAccumulator;
using reclaim::pixel::ExactSum;
using reclaim::pixel::HistogramAccumulator;
using reclaim::pixel::ValueAccumulator;

double const kNaN = std::numeric_limits<double>::quiet_NaN();
double const kInf = std::numeric_limits<double>::infinity();

// Zero state = empty, and usable as __shared__ memory: trivial, not just trivially copyable.
static_assert(std::is_trivial_v<ExactSum> && std::is_trivial_v<ValueAccumulator>);
static_assert(std::is_trivial_v<HistogramAccumulator<64>> && std::is_trivial_v<ClassAccumulator>);

// ---- ExactSum --------------------------------------------------------------------------------------

TEST(ExactSum, TenTimesPointOneRoundsOnceToOne) {
  // 10 * fl(0.1) = 1.000000000000000055511151231257827 exactly; the nearest double is 1.0, while
  // naive left-to-right double summation gives 0.9999999999999999.
  ExactSum s{};
  double naive = 0.0;
  for (int i = 0; i < 10; ++i) {
    s.add(0.1);
    naive += 0.1;
  }
  EXPECT_EQ(s.value(), 1.0);
  EXPECT_NE(naive, 1.0);
}

TEST(ExactSum, CancellationAndSmallTermsAreExact) {
  ExactSum s{};
  s.add(1e30);
  s.add(1.0);
  s.add(-1e30);
  EXPECT_EQ(s.value(), 1.0);
  ExactSum t{};
  t.add(-2.5);
  t.add(1.0);
  EXPECT_EQ(t.value(), -1.5);
  ExactSum u{};
  u.add(std::ldexp(1.0, -100));
  u.add(std::ldexp(3.0, -75));
  EXPECT_EQ(u.value(), std::ldexp(1.0, -100) + std::ldexp(3.0, -75));  // exact in double too
  ExactSum z{};
  z.add(std::ldexp(1.0, -140));  // below the 2^-128 quantum: rounds to zero
  EXPECT_EQ(z.value(), 0.0);
  EXPECT_EQ(ExactSum{}.value(), 0.0);
}

TEST(ExactSum, OverflowGivesNaN) {
  ExactSum a{};
  a.add(kInf);
  EXPECT_TRUE(std::isnan(a.value()));
  ExactSum b{};
  b.add(std::ldexp(1.0, 126));  // outside the accepted term range
  EXPECT_TRUE(std::isnan(b.value()));
  ExactSum c{};
  for (int i = 0; i < 3; ++i) c.add(std::ldexp(1.0, 125));
  EXPECT_EQ(c.value(), std::ldexp(3.0, 125));
  c.add(std::ldexp(1.0, 125));  // 2^127 leaves the signed range
  EXPECT_TRUE(std::isnan(c.value()));
  ExactSum d{};
  d.merge(c);  // overflow propagates through merges
  EXPECT_TRUE(std::isnan(d.value()));
}

// ---- ValueAccumulator: hand-worked -----------------------------------------------------------------

TEST(ValueAccumulator, HandWorkedUnweighted) {
  ValueAccumulator a{};
  for (double v : {1.0, 2.0, 3.0, 4.0}) a.update(v);
  EXPECT_EQ(a.weight(), 4.0);
  EXPECT_EQ(a.pixels(), 4u);
  EXPECT_EQ(a.sum(), 10.0);
  EXPECT_EQ(a.mean(), 2.5);
  EXPECT_DOUBLE_EQ(a.variance(), 1.25);  // (2.25 + 0.25 + 0.25 + 2.25) / 4, population
  EXPECT_DOUBLE_EQ(a.stddev(), std::sqrt(1.25));
  EXPECT_EQ(a.min(), 1.0);
  EXPECT_EQ(a.max(), 4.0);
  EXPECT_EQ(a.valid_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(a.area_ha(100.0), 0.04);  // 4 pixels of 10 m x 10 m
}

TEST(ValueAccumulator, HandWorkedWeightedWithNodata) {
  ValueAccumulator a{};
  a.update(1.0, 1.0);
  a.update(3.0, 3.0);
  a.update(kNaN, 0.5);   // nodata
  a.update(kInf, 0.5);   // non-finite: nodata too
  a.update(100.0, 0.0);  // outside the zone
  a.update(100.0, -1.0);
  a.update(100.0, kNaN);
  EXPECT_EQ(a.weight(), 4.0);
  EXPECT_EQ(a.nodata_weight(), 1.0);
  EXPECT_EQ(a.pixels(), 2u);
  EXPECT_EQ(a.nodata_pixels(), 2u);
  EXPECT_EQ(a.sum(), 10.0);
  EXPECT_EQ(a.mean(), 2.5);
  EXPECT_DOUBLE_EQ(a.variance(), 0.75);  // (1 * 1.5^2 + 3 * 0.5^2) / 4
  EXPECT_EQ(a.min(), 1.0);
  EXPECT_EQ(a.max(), 3.0);
  EXPECT_EQ(a.valid_fraction(), 0.8);  // 4 / (4 + 1)
  EXPECT_DOUBLE_EQ(a.nodata_area_ha(100.0), 0.01);
}

TEST(ValueAccumulator, EmptyAndAllNodata) {
  ValueAccumulator e{};
  EXPECT_EQ(e.weight(), 0.0);
  EXPECT_TRUE(std::isnan(e.mean()));
  EXPECT_TRUE(std::isnan(e.variance()));
  EXPECT_TRUE(std::isnan(e.min()));
  EXPECT_TRUE(std::isnan(e.max()));
  EXPECT_TRUE(std::isnan(e.valid_fraction()));

  ValueAccumulator n{};
  n.update(kNaN, 1.0);
  n.update(kNaN, 0.25);
  EXPECT_EQ(n.pixels(), 0u);
  EXPECT_EQ(n.nodata_weight(), 1.25);
  EXPECT_EQ(n.valid_fraction(), 0.0);
  EXPECT_TRUE(std::isnan(n.mean()));

  // Merging empties in either direction changes nothing.
  ValueAccumulator a{};
  for (double v : {0.5, -0.25, 2.0}) a.update(v, 0.5);
  ValueAccumulator b = a;
  b.merge(e);
  ValueAccumulator c = e;
  c.merge(a);
  for (ValueAccumulator const* x : {&b, &c}) {
    EXPECT_EQ(x->m_sum, a.m_sum);
    EXPECT_EQ(x->m_weight, a.m_weight);
    EXPECT_EQ(x->mean(), a.mean());
    EXPECT_EQ(x->variance(), a.variance());
    EXPECT_EQ(x->min(), a.min());
    EXPECT_EQ(x->max(), a.max());
  }
}

// ---- ValueAccumulator against a float64 two-pass reference ----------------------------------------

struct Sample {
  std::vector<double> value;  // float32 values promoted, ~5% NaN
  std::vector<double> weight;
};

Sample make_sample(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> val(0.3, 0.2);
  std::uniform_real_distribution<double> wt(0.0, 1.0);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Sample s;
  for (std::size_t i = 0; i < n; ++i) {
    s.value.push_back(u(rng) < 0.05 ? kNaN : static_cast<double>(static_cast<float>(val(rng))));
    double w = wt(rng);
    s.weight.push_back(u(rng) < 0.5 ? 1.0 : (w == 0.0 ? 0.5 : w));  // interior and edge pixels
  }
  return s;
}

TEST(ValueAccumulator, MatchesTwoPassFloat64) {
  Sample const s = make_sample(200000, 7);
  ValueAccumulator a{};
  for (std::size_t i = 0; i < s.value.size(); ++i) a.update(s.value[i], s.weight[i]);

  double w = 0, wx = 0, nodata = 0, lo = kInf, hi = -kInf;
  for (std::size_t i = 0; i < s.value.size(); ++i) {
    if (std::isnan(s.value[i])) {
      nodata += s.weight[i];
      continue;
    }
    w += s.weight[i];
    wx += s.weight[i] * s.value[i];
    lo = std::min(lo, s.value[i]);
    hi = std::max(hi, s.value[i]);
  }
  double const mean = wx / w;
  double m2 = 0;
  for (std::size_t i = 0; i < s.value.size(); ++i)
    if (!std::isnan(s.value[i])) m2 += s.weight[i] * (s.value[i] - mean) * (s.value[i] - mean);
  double const var = m2 / w;

  EXPECT_NEAR(a.weight(), w, 1e-12 * w);
  EXPECT_NEAR(a.nodata_weight(), nodata, 1e-12 * nodata);
  EXPECT_NEAR(a.sum(), wx, 1e-12 * std::abs(wx));
  EXPECT_NEAR(a.mean(), mean, 1e-12 * std::abs(mean));
  EXPECT_NEAR(a.variance(), var, 1e-11 * var);
  EXPECT_NEAR(a.stddev(), std::sqrt(var), 1e-11 * std::sqrt(var));
  EXPECT_EQ(a.min(), lo);
  EXPECT_EQ(a.max(), hi);
  EXPECT_NEAR(a.valid_fraction(), w / (w + nodata), 1e-12);
}

// ---- merge invariance: 1 pass vs 100 chunks vs 4 shards ---------------------------------------------

template <class Acc, class Fill>
std::vector<Acc> chunk_partials(std::size_t n, std::size_t chunks, Acc const& empty, Fill fill) {
  std::vector<Acc> parts(chunks, empty);
  for (std::size_t c = 0; c < chunks; ++c)
    for (std::size_t i = c * n / chunks; i < (c + 1) * n / chunks; ++i) fill(parts[c], i);
  return parts;
}

TEST(ValueAccumulator, MergeIsGroupingInvariant) {
  Sample const s = make_sample(100000, 11);
  auto fill = [&](ValueAccumulator& a, std::size_t i) { a.update(s.value[i], s.weight[i]); };
  ValueAccumulator one{};
  for (std::size_t i = 0; i < s.value.size(); ++i) fill(one, i);

  std::vector<ValueAccumulator> const parts = chunk_partials(s.value.size(), 100, ValueAccumulator{}, fill);
  ValueAccumulator forward{};
  for (auto const& p : parts) forward.merge(p);
  ValueAccumulator backward{};
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.merge(*it);
  // 4 shards: chunk c goes to shard c % 4; each shard is serialised, read back, merged in a
  // scrambled order (as separate processes would).
  ValueAccumulator shard[4] = {};
  for (std::size_t c = 0; c < parts.size(); ++c) shard[c % 4].merge(parts[c]);
  ValueAccumulator sharded{};
  for (int k : {2, 0, 3, 1}) sharded.merge(reclaim::deserialize_value(reclaim::serialize(shard[k])));

  // Naive double sums differ between groupings (so the exact sums below are doing real work).
  double naive_one = 0, naive_chunks = 0;
  for (std::size_t i = 0; i < s.value.size(); ++i)
    if (!std::isnan(s.value[i])) naive_one += s.weight[i] * s.value[i];
  for (auto const& p : parts) naive_chunks += p.sum();
  EXPECT_NE(naive_one, naive_chunks);

  for (ValueAccumulator const* x : {&forward, &backward, &sharded}) {
    EXPECT_EQ(x->m_weight, one.m_weight);
    EXPECT_EQ(x->m_nodata_weight, one.m_nodata_weight);
    EXPECT_EQ(x->m_sum, one.m_sum);
    EXPECT_EQ(x->weight(), one.weight());  // bit-identical doubles
    EXPECT_EQ(x->sum(), one.sum());
    EXPECT_EQ(x->mean(), one.mean());
    EXPECT_EQ(x->nodata_weight(), one.nodata_weight());
    EXPECT_EQ(x->pixels(), one.pixels());
    EXPECT_EQ(x->nodata_pixels(), one.nodata_pixels());
    EXPECT_EQ(x->min(), one.min());
    EXPECT_EQ(x->max(), one.max());
    EXPECT_TRUE(x->m_sum2 == one.m_sum2);
    EXPECT_EQ(x->variance(), one.variance());  // exact sums of w x^2 too: bit-identical
    EXPECT_EQ(x->stddev(), one.stddev());
  }
}

// ---- histogram percentiles ---------------------------------------------------------------------------

/// Weighted inverted-CDF percentile: the smallest x with (weight of values <= x) >= p/100 * W.
double exact_percentile(std::vector<std::pair<double, double>> vw, double p) {
  std::sort(vw.begin(), vw.end());
  double total = 0;
  for (auto const& e : vw) total += e.second;
  double const rank = p / 100.0 * total;
  double cum = 0;
  for (auto const& e : vw) {
    cum += e.second;
    if (e.second > 0 && cum >= rank) return e.first;
  }
  return vw.back().first;
}

TEST(HistogramAccumulator, HandWorked) {
  auto h = HistogramAccumulator<10>::make(0.0, 10.0);
  for (int i = 0; i < 10; ++i) h.update(i + 0.5);
  EXPECT_EQ(h.bin_width(), 1.0);
  EXPECT_EQ(h.total_weight(), 10.0);
  EXPECT_EQ(h.median(), 5.0);            // rank 5 ends bin 4: 4 + 1.0 (exact: 4.5)
  EXPECT_EQ(h.percentile(25.0), 2.5);    // rank 2.5: bin 2, half way
  EXPECT_EQ(h.percentile(0.0), 0.0);     // first non-empty bin, its lower edge (exact: 0.5)
  EXPECT_EQ(h.percentile(100.0), 10.0);  // exact: 9.5
  h.update(-1.0, 2.0);                   // underflow
  h.update(kNaN);                        // ignored
  EXPECT_EQ(h.total_weight(), 12.0);
  EXPECT_EQ(h.percentile(10.0), -kInf);  // rank 1.2 lies below lo
  h.update(10.0, 3.0);                   // hi itself is overflow
  EXPECT_EQ(h.percentile(90.0), kInf);
  EXPECT_TRUE(std::isnan(HistogramAccumulator<10>::make(0.0, 1.0).median()));
  EXPECT_TRUE(std::isnan(h.percentile(101.0)));
}

TEST(HistogramAccumulator, WithinOneBinOfExactPercentiles) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> val(0.2, 0.3);
  std::uniform_int_distribution<int> quarter(1, 4);
  for (bool weighted : {false, true}) {
    auto h = HistogramAccumulator<1000>::make(-1.0, 1.0);
    std::vector<std::pair<double, double>> vw;
    for (int i = 0; i < 50001; ++i) {
      double const v = std::clamp(static_cast<double>(static_cast<float>(val(rng))), -0.999, 0.999);
      double const w = weighted ? quarter(rng) * 0.25 : 1.0;  // multiples of 2^-2: quantised exactly
      h.update(v, w);
      vw.emplace_back(v, w);
    }
    double const tol = h.bin_width() * (1 + 1e-9);
    for (double p : {0.0, 0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 100.0}) {
      EXPECT_NEAR(h.percentile(p), exact_percentile(vw, p), tol) << "p=" << p << " weighted=" << weighted;
    }
  }
}

TEST(HistogramAccumulator, MergeIsGroupingInvariant) {
  Sample const s = make_sample(50000, 5);
  using H = HistogramAccumulator<256>;
  auto fill = [&](H& h, std::size_t i) { h.update(s.value[i], s.weight[i]); };
  H one = H::make(-0.5, 1.0);
  for (std::size_t i = 0; i < s.value.size(); ++i) fill(one, i);
  auto const parts = chunk_partials(s.value.size(), 100, H::make(-0.5, 1.0), fill);
  H shard[4] = {H::make(-0.5, 1.0), H::make(-0.5, 1.0), H::make(-0.5, 1.0), H::make(-0.5, 1.0)};
  for (std::size_t c = 0; c < parts.size(); ++c) shard[c % 4].merge(parts[c]);
  H merged = H::make(-0.5, 1.0);
  for (int k : {3, 1, 2, 0}) merged.merge(reclaim::deserialize_histogram<256>(reclaim::serialize(shard[k])));
  EXPECT_EQ(std::memcmp(&merged, &one, sizeof(H)), 0);  // all-integer state, no padding
  EXPECT_EQ(merged.median(), one.median());
  EXPECT_GT(one.m_under, 0u);
  EXPECT_GT(one.m_over, 0u);
}

// ---- class areas -------------------------------------------------------------------------------------

TEST(ClassAccumulator, AreasFractionsMajority) {
  ClassAccumulator c{};
  EXPECT_EQ(c.majority(), -1);
  EXPECT_TRUE(std::isnan(c.fraction(1)));
  c.update(1, 0.5);
  c.update(2, 1.0);
  c.update(2, 0.5);
  c.update(300, 1.0);  // out of range: invalid, not in the fractions
  c.update(-1, 1.0);
  c.update(5, 0.0);    // outside the zone
  EXPECT_EQ(c.weight(1), 0.5);
  EXPECT_EQ(c.weight(2), 1.5);
  EXPECT_EQ(c.fraction(1), 0.25);
  EXPECT_EQ(c.fraction(2), 0.75);
  EXPECT_EQ(c.fraction(5), 0.0);
  EXPECT_DOUBLE_EQ(c.area_ha(2, 100.0), 0.015);
  EXPECT_EQ(c.majority(), 2);
  EXPECT_EQ(c.m_invalid, 2ull << 32);
}

TEST(ClassAccumulator, MajorityTieGoesToLowestClass) {
  ClassAccumulator c{};
  c.update(7, 1.0);
  c.update(7, 1.0);
  c.update(3, 0.5);
  c.update(3, 1.5);
  c.update(200, 2.0);
  EXPECT_EQ(c.majority(), 3);
  c.update(200, 0.25);
  EXPECT_EQ(c.majority(), 200);
}

TEST(ClassAccumulator, MergeIsGroupingInvariant) {
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> cls(0, 12);
  std::uniform_real_distribution<double> wt(0.01, 1.0);
  std::vector<int> k(30000);
  std::vector<double> w(k.size());
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = cls(rng);
    w[i] = wt(rng);
  }
  auto fill = [&](ClassAccumulator& c, std::size_t i) { c.update(k[i], w[i]); };
  ClassAccumulator one{};
  for (std::size_t i = 0; i < k.size(); ++i) fill(one, i);
  auto const parts = chunk_partials(k.size(), 100, ClassAccumulator{}, fill);
  ClassAccumulator merged{};
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) merged.merge(reclaim::deserialize_class(reclaim::serialize(*it)));
  EXPECT_EQ(std::memcmp(&merged, &one, sizeof(ClassAccumulator)), 0);
  // Reference fractions in double from the raw weights.
  double total = std::accumulate(w.begin(), w.end(), 0.0);
  for (int c = 0; c <= 12; ++c) {
    double wc = 0;
    for (std::size_t i = 0; i < k.size(); ++i) wc += k[i] == c ? w[i] : 0.0;
    EXPECT_NEAR(merged.fraction(c), wc / total, 1e-9);
  }
}

// ---- serialisation -----------------------------------------------------------------------------------

TEST(ZonalIo, RoundTripAndLayout) {
  ValueAccumulator a{};
  for (double v : {0.25, -1.5, kNaN, 3.0}) a.update(v, 0.75);
  std::vector<std::uint8_t> const bytes = reclaim::serialize(a);
  ASSERT_GE(bytes.size(), 20u);
  EXPECT_EQ(std::memcmp(bytes.data(), "RZAC", 4), 0);
  EXPECT_EQ(bytes[4], 2);  // version 2, little-endian u16
  EXPECT_EQ(bytes[5], 0);
  EXPECT_EQ(bytes[6], 1);  // kind 1 = value
  // 4 exact sums of 36 bytes, 2 u64, 2 f64.
  EXPECT_EQ(bytes.size(), 12u + 4 * 36 + 2 * 8 + 2 * 8 + 8);
  ValueAccumulator const b = reclaim::deserialize_value(bytes);
  EXPECT_EQ(b.m_weight, a.m_weight);
  EXPECT_EQ(b.m_nodata_weight, a.m_nodata_weight);
  EXPECT_EQ(b.m_sum, a.m_sum);
  EXPECT_EQ(b.m_sum2, a.m_sum2);
  EXPECT_EQ(b.m_pixels, a.m_pixels);
  EXPECT_EQ(b.m_nodata_pixels, a.m_nodata_pixels);
  EXPECT_EQ(b.variance(), a.variance());
  EXPECT_EQ(b.min(), -1.5);
  EXPECT_EQ(b.max(), 3.0);
  EXPECT_EQ(reclaim::serialize(b), bytes);

  ClassAccumulator c{};
  c.update(4, 0.5);
  EXPECT_EQ(reclaim::deserialize_class(reclaim::serialize(c)).majority(), 4);
}

TEST(ZonalIo, RejectsCorruptShortAndMismatchedBuffers) {
  ValueAccumulator a{};
  a.update(1.0);
  std::vector<std::uint8_t> const good = reclaim::serialize(a);
  auto rejects = [](std::vector<std::uint8_t> const& b) {
    EXPECT_THROW(reclaim::deserialize_value(b), reclaim::input_error);
  };
  rejects({});
  rejects(std::vector<std::uint8_t>(good.begin(), good.begin() + 10));
  rejects(std::vector<std::uint8_t>(good.begin(), good.end() - 1));
  auto longer = good;
  longer.push_back(0);
  rejects(longer);
  for (std::size_t at : {std::size_t{0}, std::size_t{4}, std::size_t{6}, std::size_t{8}, std::size_t{40},
                         good.size() - 1}) {
    auto flipped = good;
    flipped[at] ^= 0x10;
    rejects(flipped);
  }
  // Right envelope, wrong kind.
  ClassAccumulator c{};
  EXPECT_THROW(reclaim::deserialize_value(reclaim::serialize(c)), reclaim::input_error);
  EXPECT_THROW(reclaim::deserialize_class(good), reclaim::input_error);
  // Histogram with another bin count.
  auto const h = reclaim::serialize(HistogramAccumulator<16>::make(0.0, 1.0));
  EXPECT_NO_THROW(reclaim::deserialize_histogram<16>(h));
  EXPECT_THROW(reclaim::deserialize_histogram<32>(h), reclaim::input_error);
}

}  // namespace
