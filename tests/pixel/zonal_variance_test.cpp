// ValueAccumulator's variance from exact sums (issue 14): bit-identical in any grouping and
// merge order, and correct to the last bit where the naive one-pass formula cancels completely.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "reclaim/pixel/zonal.hpp"

namespace {

using reclaim::pixel::ValueAccumulator;

std::uint64_t bits(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

/// n values and weights split into `groups` contiguous groups, each accumulated separately,
/// then merged in a shuffled order (and as a shuffled binary tree for odd seeds).
ValueAccumulator grouped(std::vector<double> const& x, std::vector<double> const& w, std::size_t groups,
                         unsigned seed) {
  std::vector<ValueAccumulator> parts(groups);
  for (std::size_t g = 0; g < groups; ++g)
    for (std::size_t i = g * x.size() / groups; i < (g + 1) * x.size() / groups; ++i) parts[g].update(x[i], w[i]);
  std::mt19937 rng(seed);
  std::shuffle(parts.begin(), parts.end(), rng);
  if (seed % 2 == 1) {
    while (parts.size() > 1) {  // pairwise tree
      std::vector<ValueAccumulator> next;
      for (std::size_t k = 0; k + 1 < parts.size(); k += 2) {
        next.push_back(parts[k + 1]);
        next.back().merge(parts[k]);
      }
      if (parts.size() % 2 == 1) next.push_back(parts.back());
      parts = next;
    }
    return parts[0];
  }
  ValueAccumulator acc{};
  for (auto const& p : parts) acc.merge(p);
  return acc;
}

TEST(ValueAccumulatorVariance, BitIdenticalInAnyGroupingAndOrder) {
  // 10 000 values with a large mean and a small spread, generic fractional weights and doubles.
  std::mt19937_64 rng(14);
  std::normal_distribution<double> val(12345.678, 0.01);
  std::uniform_real_distribution<double> wt(0.001, 1.0);
  std::vector<double> x(10000), w(10000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = val(rng);
    w[i] = i % 3 == 0 ? 1.0 : wt(rng);
  }
  ValueAccumulator one{};
  for (std::size_t i = 0; i < x.size(); ++i) one.update(x[i], w[i]);
  ASSERT_GT(one.variance(), 0.0);
  for (std::size_t groups : {1u, 7u, 100u}) {
    for (unsigned seed : {1u, 2u, 3u, 4u}) {
      ValueAccumulator const g = grouped(x, w, groups, seed);
      EXPECT_EQ(bits(g.variance()), bits(one.variance())) << groups << " groups, seed " << seed;
      EXPECT_EQ(bits(g.stddev()), bits(one.stddev())) << groups << " groups, seed " << seed;
      EXPECT_EQ(bits(g.mean()), bits(one.mean()));
    }
  }
  // Reversed input order, one pass.
  ValueAccumulator rev{};
  for (std::size_t i = x.size(); i-- > 0;) rev.update(x[i], w[i]);
  EXPECT_EQ(bits(rev.variance()), bits(one.variance()));
}

/// Values M + k_i 2^-20 with weights j_i / 16: the weighted population variance is
/// (J B - A^2) / J^2 * 2^-40 with J = sum j, A = sum j k, B = sum j k^2 (shift invariance), all
/// integers here below 2^53, so the reference is one correctly rounded division.
struct ExactCase {
  std::vector<double> x, w;
  double reference;
};

ExactCase make_exact_case(double big_mean, bool unit_weights, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> k_of(-100, 100);
  std::uniform_int_distribution<int> j_of(1, 16);
  ExactCase c;
  std::int64_t J = 0, A = 0, B = 0;
  for (int i = 0; i < 10000; ++i) {
    std::int64_t const k = k_of(rng), j = unit_weights ? 16 : j_of(rng);
    c.x.push_back(big_mean + std::ldexp(static_cast<double>(k), -20));
    c.w.push_back(static_cast<double>(j) / 16.0);
    J += j;
    A += j * k;
    B += j * k * k;
  }
  std::int64_t const num = J * B - A * A;
  EXPECT_LT(num, std::int64_t{1} << 53);
  EXPECT_LT(J * J, std::int64_t{1} << 53);
  c.reference = std::ldexp(static_cast<double>(num) / static_cast<double>(J * J), -40);
  return c;
}

TEST(ValueAccumulatorVariance, MatchesExactReferenceToTheLastBit) {
  for (bool unit : {true, false}) {
    for (double m : {0.0, 3.0, 1e6, -7.5e6}) {
      ExactCase const c = make_exact_case(m, unit, 5u);
      for (std::size_t i = 0; i < c.x.size(); ++i) ASSERT_EQ(c.x[i] - m, std::ldexp(std::round(std::ldexp(c.x[i] - m, 20)), -20));
      ValueAccumulator a{};
      for (std::size_t i = 0; i < c.x.size(); ++i) a.update(c.x[i], c.w[i]);
      EXPECT_EQ(a.variance(), c.reference) << "mean " << m << " unit weights " << unit;
      EXPECT_EQ(a.stddev(), std::sqrt(c.reference));
      ValueAccumulator const g = grouped(c.x, c.w, 7, 3);
      EXPECT_EQ(g.variance(), c.reference);
    }
  }
}

TEST(ValueAccumulatorVariance, LargeMeanSmallSpreadDoesNotCancel) {
  // mean 1e8, spread ~6e-5: x^2 ~ 1e16 while the variance is ~3e-9, 25 orders of magnitude
  // below; the one-pass double formula S2/W - mean^2 loses every digit.
  ExactCase const c = make_exact_case(1e8, false, 9u);
  ValueAccumulator a{};
  double s1 = 0, s2 = 0, sw = 0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    a.update(c.x[i], c.w[i]);
    sw += c.w[i];
    s1 += c.w[i] * c.x[i];
    s2 += c.w[i] * c.x[i] * c.x[i];
  }
  double const naive = s2 / sw - (s1 / sw) * (s1 / sw);
  EXPECT_GT(std::abs(naive - c.reference), 1e3 * c.reference);  // the naive formula is garbage
  EXPECT_EQ(a.variance(), c.reference);
  // Constant values: exactly 0, whatever the weights.
  ValueAccumulator k{};
  for (std::size_t i = 0; i < c.w.size(); ++i) k.update(1e8 + 0.1, c.w[i]);
  EXPECT_EQ(k.variance(), 0.0);
  EXPECT_EQ(k.stddev(), 0.0);
}

TEST(ValueAccumulatorVariance, SmallHandWorkedCases) {
  ValueAccumulator a{};
  for (double v : {1.0, 2.0, 3.0, 4.0}) a.update(v);
  EXPECT_EQ(a.variance(), 1.25);  // (2.25 + 0.25 + 0.25 + 2.25) / 4
  ValueAccumulator b{};
  b.update(0.1, 0.3);
  b.update(0.7, 0.9);
  // w1 w2 (x1 - x2)^2 / (w1 + w2)^2 ~ 0.27 * 0.36 / 1.44 = 0.0675; for the doubles 0.1, 0.7, 0.3,
  // 0.9 exactly, Python's fractions.Fraction gives 0.06749999999999999 once rounded.
  EXPECT_EQ(b.variance(), 0.06749999999999999);
  // Overflow of the sum of w x^2 (|x| ~ 2^70): the variance is NaN, the mean is still exact.
  ValueAccumulator o{};
  o.update(std::ldexp(1.0, 70));
  o.update(std::ldexp(1.0, 70) + std::ldexp(1.0, 30));
  EXPECT_TRUE(std::isnan(o.variance()));
  EXPECT_TRUE(std::isnan(o.stddev()));
  EXPECT_EQ(o.mean(), std::ldexp(1.0, 70) + std::ldexp(1.0, 29));
}

}  // namespace
