// The change vector's host side: thresholds against brute-force evaluations of their published
// criteria, the magnitude against hand-worked pixels, and the two reads' results independent of
// tiling and threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "reclaim/change_vector.hpp"

namespace {

using reclaim::BandMoments;
using reclaim::histogram_threshold;
using reclaim::ThresholdMethod;
using reclaim::pixel::Band;
using reclaim::pixel::ChangeVector;
using reclaim::pixel::Reflectance;

/// Class statistics of the bins [lo, hi) computed from scratch (bin centres (k + 0.5) w).
struct ClassStats {
  double n = 0, mean = 0, var = 0;
};
ClassStats class_stats(std::vector<std::uint64_t> const& counts, std::size_t lo, std::size_t hi, double w) {
  ClassStats s;
  for (std::size_t k = lo; k < hi; ++k) s.n += static_cast<double>(counts[k]);
  if (s.n == 0) return s;
  for (std::size_t k = lo; k < hi; ++k) s.mean += static_cast<double>(counts[k]) * (k + 0.5) * w / s.n;
  for (std::size_t k = lo; k < hi; ++k) s.var += static_cast<double>(counts[k]) * std::pow((k + 0.5) * w - s.mean, 2) / s.n;
  return s;
}

/// Otsu (1979): the cut (after bin k) maximising w0 w1 (mu0 - mu1)^2, the first on a tie.
double brute_otsu(std::vector<std::uint64_t> const& counts, double w) {
  double best = -1, threshold = NAN;
  auto const all = class_stats(counts, 0, counts.size(), w);
  for (std::size_t k = 0; k + 1 < counts.size(); ++k) {
    auto const a = class_stats(counts, 0, k + 1, w), b = class_stats(counts, k + 1, counts.size(), w);
    if (a.n == 0 || b.n == 0) continue;
    double const between = (a.n / all.n) * (b.n / all.n) * std::pow(a.mean - b.mean, 2);
    if (between > best * (1 + 1e-12)) {  // ties within rounding: the first
      best = between;
      threshold = (k + 1) * w;
    }
  }
  return threshold;
}

/// Kittler & Illingworth (1986): minimise 1 + 2 (P1 ln s1 + P2 ln s2) - 2 (P1 ln P1 + P2 ln P2).
double brute_ki(std::vector<std::uint64_t> const& counts, double w) {
  double best = INFINITY, threshold = NAN;
  auto const all = class_stats(counts, 0, counts.size(), w);
  for (std::size_t k = 0; k + 1 < counts.size(); ++k) {
    auto const a = class_stats(counts, 0, k + 1, w), b = class_stats(counts, k + 1, counts.size(), w);
    if (a.n == 0 || b.n == 0 || a.var <= 0 || b.var <= 0) continue;
    double const p1 = a.n / all.n, p2 = b.n / all.n;
    double const j = 1 + 2 * (p1 * std::log(std::sqrt(a.var)) + p2 * std::log(std::sqrt(b.var))) -
                     2 * (p1 * std::log(p1) + p2 * std::log(p2));
    if (std::isinf(best) || j < best - 1e-12 * std::fabs(best)) {  // ties within rounding (e.g. cuts across empty bins): the first
      best = j;
      threshold = (k + 1) * w;
    }
  }
  return threshold;
}

double ki_criterion(std::vector<std::uint64_t> const& counts, double w, double threshold) {
  if (!(threshold >= 0)) return NAN;
  auto const k = static_cast<std::size_t>(std::llround(threshold / w));
  auto const all = class_stats(counts, 0, counts.size(), w);
  auto const a = class_stats(counts, 0, k, w), b = class_stats(counts, k, counts.size(), w);
  double const p1 = a.n / all.n, p2 = b.n / all.n;
  return 1 + 2 * (p1 * std::log(std::sqrt(a.var)) + p2 * std::log(std::sqrt(b.var))) - 2 * (p1 * std::log(p1) + p2 * std::log(p2));
}

/// Two Gaussian modes (no change near `a`, change near `b`), counted into `bins` of width w.
std::vector<std::uint64_t> bimodal(unsigned seed, int bins, double w, double a, double b, double share) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> low(a, 0.4), high(b, 0.8);
  std::bernoulli_distribution changed(share);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(bins), 0);
  for (int i = 0; i < 20000; ++i) {
    double const x = changed(rng) ? high(rng) : low(rng);
    int const k = std::clamp(static_cast<int>(std::floor(x / w)), 0, bins - 1);
    ++counts[static_cast<std::size_t>(k)];
  }
  return counts;
}

TEST(HistogramThreshold, TwoSpikesTieGoesToTheLowestCut) {
  // Hand-worked: 10 pixels at bin 0, 10 at bin 3; every cut between them separates the same two
  // classes (Otsu's criterion is equal for cuts after bins 0, 1 and 2): the lowest, edge 1.0.
  std::vector<std::uint64_t> counts{10, 0, 0, 10};
  EXPECT_EQ(histogram_threshold(counts, 1.0, ThresholdMethod::otsu), 1.0);
  // Kittler-Illingworth needs spread in both classes: none here.
  EXPECT_FALSE(histogram_threshold(counts, 1.0, ThresholdMethod::kittler_illingworth).has_value());
  EXPECT_FALSE(histogram_threshold(std::vector<std::uint64_t>{0, 7, 0}, 1.0, ThresholdMethod::otsu).has_value());
  EXPECT_FALSE(histogram_threshold(std::vector<std::uint64_t>{0, 0, 0}, 1.0, ThresholdMethod::otsu).has_value());
}

TEST(HistogramThreshold, OtsuAndKittlerIllingworthEqualTheirCriteriaEvaluatedByBruteForce) {
  double const w = 1.0 / 32;
  for (unsigned seed = 1; seed <= 6; ++seed) {
    auto const counts = bimodal(seed, 320, w, 1.5 + 0.1 * seed, 5.0, 0.05 * seed);
    auto const otsu = histogram_threshold(counts, w, ThresholdMethod::otsu);
    auto const ki = histogram_threshold(counts, w, ThresholdMethod::kittler_illingworth);
    ASSERT_TRUE(otsu && ki);
    EXPECT_DOUBLE_EQ(*otsu, brute_otsu(counts, w)) << "seed " << seed;
    EXPECT_DOUBLE_EQ(*ki, brute_ki(counts, w)) << "seed " << seed << ": J " << ki_criterion(counts, w, *ki) << " at reclaim's, "
                                               << ki_criterion(counts, w, brute_ki(counts, w)) << " at the brute force's";
    EXPECT_GT(*otsu, 1.5 + 0.1 * seed);  // between the modes
    EXPECT_LT(*otsu, 5.0);
  }
}

TEST(MagnitudeHistogram, BinsFromZeroAndClampsBeyondTheLast) {
  reclaim::MagnitudeHistogram h;
  h.add(0.0);                          // bin 0
  h.add(1.0 / 256);                    // bin 1: a bin includes its lower edge
  h.add(2.5);                          // bin 640
  h.add(64.0 - 1.0 / 512);             // the last bin, inside it
  h.add(100.0);                        // beyond: the last bin, counted as clamped
  h.add(std::nan(""));                 // not clear in both epochs: not counted
  EXPECT_EQ(h.counts[0], 1u);
  EXPECT_EQ(h.counts[1], 1u);
  EXPECT_EQ(h.counts[640], 1u);
  EXPECT_EQ(h.counts.back(), 2u);
  EXPECT_EQ(h.clamped, 1u);
  EXPECT_EQ(h.total(), 5u);
  // Quantiles: the upper edge of the bin that reaches the share (5 pixels: 1 is 20 %, 2 are 40 %).
  EXPECT_EQ(h.quantile(0.2), 1.0 / 256);
  EXPECT_EQ(h.quantile(0.25), 2.0 / 256);
  EXPECT_EQ(h.quantile(0.5), 641.0 / 256);
  EXPECT_EQ(h.quantile(1.0), 64.0);
  EXPECT_EQ(reclaim::MagnitudeHistogram{}.quantile(0.25), 64.0);
}

TEST(ChangeMagnitude, HandWorkedPixel) {
  ChangeVector cv;
  cv.enabled = 1;
  int const red = static_cast<int>(Band::red), nir = static_cast<int>(Band::nir);
  cv.use[red] = cv.use[nir] = 1;
  cv.mean[0][red] = 0.1, cv.inv_sd[0][red] = 1 / 0.05;  // before: red mean 0.1, sd 0.05
  cv.mean[1][red] = 0.2, cv.inv_sd[1][red] = 1 / 0.1;   // after: red mean 0.2, sd 0.1
  cv.mean[0][nir] = 0.3, cv.inv_sd[0][nir] = 1 / 0.1;
  cv.mean[1][nir] = 0.3, cv.inv_sd[1][nir] = 1 / 0.1;
  Reflectance before{}, after{};
  before.band[red] = 0.15, after.band[red] = 0.1;  // z: +1 before, -1 after: difference -2
  before.band[nir] = 0.3, after.band[nir] = 0.45;  // z: 0 before, +1.5 after: difference 1.5
  before.band[0] = after.band[0] = NAN;           // blue is not used: its NaN does not matter
  EXPECT_NEAR(reclaim::pixel::change_magnitude(cv, before, after), 2.5, 1e-12);  // sqrt(4 + 2.25)
  // Direction: red -2, NIR +1.5: greening.
  EXPECT_EQ(reclaim::pixel::change_direction(cv, before, after), reclaim::pixel::kDirectionGreening);
  Reflectance bared = after;
  bared.band[red] = 0.4, bared.band[nir] = 0.2;  // red z 2 (+1 from before), NIR z -1 (-1): browning
  EXPECT_EQ(reclaim::pixel::change_direction(cv, before, bared), reclaim::pixel::kDirectionBrowning);
  bared.band[red] = 0.1;  // red -2, NIR -1: darkening
  EXPECT_EQ(reclaim::pixel::change_direction(cv, before, bared), reclaim::pixel::kDirectionDarkening);
  before.band[nir] = 0.45;  // NIR z-difference 0 counts as up; red still down
  EXPECT_EQ(reclaim::pixel::change_direction(cv, before, after), reclaim::pixel::kDirectionGreening);
  after.band[red] = 0.3;  // red z +1 after vs +1 before: 0, up; NIR 0, up: brightening
  EXPECT_EQ(reclaim::pixel::change_direction(cv, before, after), reclaim::pixel::kDirectionBrightening);
  after.band[nir] = NAN;
  EXPECT_TRUE(std::isnan(reclaim::pixel::change_direction(cv, before, after)));
  EXPECT_TRUE(std::isnan(reclaim::pixel::change_magnitude(cv, before, after)));
}

TEST(BandMoments, MergedPartsEqualOneAccumulatorAndTwoPassFormulas) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 0.6);
  std::uint32_t const bands = 0b001110;  // green, red, nir
  BandMoments one, left, right;
  std::vector<double> values;  // green of the before epoch, for the two-pass reference
  for (int i = 0; i < 1000; ++i) {
    Reflectance b{}, a{};
    for (int k = 0; k < 6; ++k) b.band[k] = u(rng), a.band[k] = u(rng) * 3 + 100;  // DN-like offsets
    if (i == 500) b.band[3] = NAN;  // skipped: a used band is not finite
    if (i == 501) b.band[0] = NAN;  // kept: blue is not used
    one.add(b, a, bands);
    (i < 333 ? left : right).add(b, a, bands);
    if (i != 500) values.push_back(b.band[1]);
  }
  left.merge(right);
  EXPECT_EQ(one.count, 999);
  EXPECT_EQ(left.count, 999);
  double mean = 0, m2 = 0;
  for (double v : values) mean += v / values.size();
  for (double v : values) m2 += (v - mean) * (v - mean);
  EXPECT_NEAR(one.mean[0][1], mean, 1e-14);
  EXPECT_NEAR(left.mean[0][1], mean, 1e-14);
  EXPECT_NEAR(one.m2[0][1] / m2, 1.0, 1e-12);
  EXPECT_NEAR(left.m2[0][1] / m2, 1.0, 1e-12);
  auto const cv = reclaim::standardisation_from(one, bands);
  EXPECT_EQ(cv.enabled, 1);
  EXPECT_EQ(cv.use[0], 0);  // not asked for
  EXPECT_EQ(cv.use[1], 1);
  EXPECT_NEAR(cv.inv_sd[0][1], 1 / std::sqrt(m2 / values.size()), 1e-9);
}

TEST(ChangeVectorReads, IndependentOfTilingAndThreads) {
  // Two epochs of red and nir on a 70 x 50 grid; the after epoch a brightened copy with a block
  // that changed, and a masked (NaN) column.
  reclaim::Grid grid;
  grid.width = 70;
  grid.height = 50;
  std::size_t const n = 70 * 50;
  std::vector<std::vector<float>> planes(4, std::vector<float>(n));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(0.05f, 0.5f);
  for (std::size_t i = 0; i < n; ++i) {
    planes[0][i] = u(rng);
    planes[1][i] = u(rng);
    bool const block = (i % 70) > 40 && (i / 70) > 30;  // vegetation cleared: red up, nir down
    if (block) planes[0][i] = 0.05f, planes[1][i] = 0.5f;
    planes[2][i] = block ? 0.6f : planes[0][i] * 1.1f + 0.01f;
    planes[3][i] = block ? 0.05f : planes[1][i] * 0.9f;
    if (i % 70 == 3) planes[2][i] = NAN;
  }
  reclaim::MemoryTileSource source(grid, planes);
  reclaim::pixel::ChangeParams params;
  int const red = static_cast<int>(Band::red), nir = static_cast<int>(Band::nir);
  params.before.band_plane[red] = 0, params.before.band_plane[nir] = 1;
  params.after.band_plane[red] = 2, params.after.band_plane[nir] = 3;
  EXPECT_EQ(reclaim::shared_bands(params), (1u << red) | (1u << nir));
  auto tiles_of = [&](int tw, int th) {
    std::vector<reclaim::TileWindow> tiles;
    for (std::int64_t y = 0; y < grid.height; y += th)
      for (std::int64_t x = 0; x < grid.width; x += tw)
        tiles.push_back({static_cast<std::int64_t>(tiles.size()), x, y, static_cast<std::int32_t>(std::min<std::int64_t>(tw, grid.width - x)),
                         static_cast<std::int32_t>(std::min<std::int64_t>(th, grid.height - y))});
    return tiles;
  };
  auto const whole = tiles_of(70, 50), small = tiles_of(16, 16);
  auto const m1 = reclaim::band_moments(source, whole, params, 1);
  auto const m3 = reclaim::band_moments(source, small, params, 3);
  EXPECT_EQ(m1.count, 70.0 * 50 - 50);  // the NaN column is out
  EXPECT_EQ(m3.count, m1.count);
  EXPECT_NEAR(m3.mean[1][red], m1.mean[1][red], 1e-15);
  EXPECT_NEAR(m3.m2[1][nir] / m1.m2[1][nir], 1.0, 1e-13);
  params.vector = reclaim::standardisation_from(m1, reclaim::shared_bands(params));
  auto const h1 = reclaim::magnitude_histogram(source, whole, params, 1);
  auto const h3 = reclaim::magnitude_histogram(source, small, params, 3);
  EXPECT_EQ(h1.counts, h3.counts);
  EXPECT_EQ(h1.total(), 70u * 50u - 50u);
  // The changed block (29 x 19 px) is far above the rest, so Otsu puts it above the threshold.
  auto const t = histogram_threshold(h1.counts, reclaim::kMagnitudeBinWidth, ThresholdMethod::otsu);
  ASSERT_TRUE(t);
  std::uint64_t above = 0;
  for (std::size_t k = static_cast<std::size_t>(std::llround(*t / reclaim::kMagnitudeBinWidth)); k < h1.counts.size(); ++k)
    above += h1.counts[k];
  EXPECT_EQ(above, 29u * 19u);
}

}  // namespace
