// Hand-worked pixels for the composite rules of include/reclaim/pixel/composite.hpp (the numpy
// comparison on random stacks is tests/pixel/test_composite_numpy.py; CPU/GPU parity is
// tests/kernels/composite_parity_test.cu).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/composite.hpp"
#include "reclaim/pixel/per_pixel.hpp"

namespace {

using namespace reclaim::pixel;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr std::uint32_t kRedNir = band_set::red | band_set::nir;

/// One pixel's stack of n observations, every band NaN until set.
struct Stack {
  explicit Stack(int count) : n(count), values(static_cast<std::size_t>(count) * kBandCount, kNaN) {}
  Stack& set(int o, Band b, float v) {
    values[static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(b)] = v;
    return *this;
  }
  /// Observation o's red and nir.
  Stack& red_nir(int o, float red, float nir) { return set(o, Band::red, red).set(o, Band::nir, nir); }
  int n;
  std::vector<float> values;
};

CompositeParams params(CompositeMethod m, int n, std::uint32_t bands, std::initializer_list<double> pct = {}) {
  CompositeParams p;
  p.method = m;
  p.observation_count = n;
  p.bands = bands;
  for (double q : pct) p.percentiles[p.percentile_count++] = q;
  return p;
}

std::vector<float> run(CompositeParams const& p, Stack const& s) {
  EXPECT_EQ(composite_params_error(p), nullptr);
  std::vector<float> out(static_cast<std::size_t>(composite_output_planes(p)), -7.f);  // poisoned
  composite_pixel(p, s.values.data(), out.data(), 1, 0);
  return out;
}

float plane(std::vector<float> const& out, Band b) { return out[static_cast<std::size_t>(b)]; }

void expect_only_bands(std::vector<float> const& out, std::uint32_t bands) {
  for (int b = 0; b < kBandCount; ++b)
    if (((bands >> b) & 1u) == 0u) {
      EXPECT_TRUE(std::isnan(out[static_cast<std::size_t>(b)])) << "band " << b;
    }
}

TEST(CompositeOutputs, PlaneCountAndClearCountPlane) {
  CompositeParams p = params(CompositeMethod::median, 3, kRedNir, {10, 50, 90});
  EXPECT_EQ(composite_output_planes(p), 6 + 1 + 3);
  EXPECT_EQ(kClearCountPlane, 6);
  p.percentile_count = 0;
  EXPECT_EQ(composite_output_planes(p), 7);
}

TEST(CompositeMedian, OddCountPerBandIndependent) {
  // red 0.3 0.1 0.2 -> 0.2; nir 0.5 0.9 0.7 -> 0.7: (0.2, 0.7) is no single observation.
  Stack s(3);
  s.red_nir(0, 0.3f, 0.9f).red_nir(1, 0.1f, 0.5f).red_nir(2, 0.2f, 0.7f);
  auto const out = run(params(CompositeMethod::median, 3, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 0.2f);
  EXPECT_EQ(plane(out, Band::nir), 0.7f);
  EXPECT_EQ(out[kClearCountPlane], 3.f);
  expect_only_bands(out, kRedNir);
}

TEST(CompositeMedian, EvenCountMeanOfTheTwoMiddleValues) {
  // 1, 0.25, 0.125, 0.5 -> middle 0.25 and 0.5 -> 0.375 (all exact in binary).
  Stack s(4);
  float const red[] = {1.f, 0.25f, 0.125f, 0.5f};
  for (int o = 0; o < 4; ++o) s.red_nir(o, red[o], 0.5f);
  auto const out = run(params(CompositeMethod::median, 4, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 0.375f);
  EXPECT_EQ(plane(out, Band::nir), 0.5f);
}

TEST(CompositeMedian, EvenMeanRoundedOnceToFloat) {
  // The mean of 1 and 1 + 2^-23 is 1 + 2^-24 in double, a tie in float: to even gives 1.
  // Averaging in float (a + (b - a) / 2 or (a + b) / 2 rounded twice) could give either; the
  // mean of 1 + 2^-23 and 1 + 2^-22 is 1 + 3 * 2^-24, a tie that rounds to even 1 + 2^-22.
  float const one_up = std::nextafter(1.f, 2.f), two_up = std::nextafter(one_up, 2.f);
  Stack s(2);
  s.red_nir(0, 1.f, one_up).red_nir(1, one_up, two_up);
  auto const out = run(params(CompositeMethod::median, 2, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 1.f);
  EXPECT_EQ(plane(out, Band::nir), two_up);
}

TEST(CompositeMedian, NanInOneBandMakesTheObservationNotClear) {
  // Observation 1 has a NaN red only; its nir (0.9) must not enter the nir median either.
  // Observation 2's +inf nir makes it not clear too. A NaN in a band not composited (blue) does
  // not matter.
  Stack s(4);
  s.red_nir(0, 0.1f, 0.2f).red_nir(1, kNaN, 0.9f).red_nir(2, 0.3f, kInf).red_nir(3, 0.3f, 0.4f);
  s.set(3, Band::blue, kNaN);
  auto const out = run(params(CompositeMethod::median, 4, kRedNir), s);
  EXPECT_EQ(out[kClearCountPlane], 2.f);
  EXPECT_EQ(plane(out, Band::red), static_cast<float>((0.1 + 0.3) / 2));  // (0.1f + 0.3f) / 2 in double
  EXPECT_EQ(plane(out, Band::red), static_cast<float>((static_cast<double>(0.1f) + static_cast<double>(0.3f)) * 0.5));
  EXPECT_EQ(plane(out, Band::nir), 0.3f);  // (0.2 + 0.4) / 2
}

TEST(CompositeMedian, ZeroMedianIsPositiveZero) {
  Stack s(2);
  s.red_nir(0, -0.f, -0.f).red_nir(1, -0.f, 0.f);
  auto const out = run(params(CompositeMethod::median, 2, kRedNir), s);
  EXPECT_FALSE(std::signbit(plane(out, Band::red)));
  EXPECT_FALSE(std::signbit(plane(out, Band::nir)));
}

TEST(CompositeRules, NoClearObservationEveryPlaneNanButTheCount) {
  for (auto m : {CompositeMethod::median, CompositeMethod::max_ndvi, CompositeMethod::medoid}) {
    Stack s(3);
    s.red_nir(0, kNaN, 0.5f).red_nir(1, 0.2f, kNaN);  // observation 2 all NaN
    auto const out = run(params(m, 3, kRedNir | band_set::swir1, {0, 50, 100}), s);
    ASSERT_EQ(out.size(), 10u);
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (static_cast<int>(k) == kClearCountPlane) EXPECT_EQ(out[k], 0.f);
      else EXPECT_TRUE(std::isnan(out[k])) << "plane " << k;
    }
  }
  // No observation at all.
  auto const out = run(params(CompositeMethod::median, 0, kRedNir), Stack(0));
  EXPECT_EQ(out[kClearCountPlane], 0.f);
  EXPECT_TRUE(std::isnan(plane(out, Band::red)));
}

TEST(CompositeMaxNdvi, GreenestObservationEveryBand) {
  // NDVI: (0.4-0.1)/0.5 = 0.6, (0.5-0.1)/0.6 = 0.667, (0.3-0.2)/0.5 = 0.2.
  Stack s(3);
  s.red_nir(0, 0.1f, 0.4f).red_nir(1, 0.1f, 0.5f).red_nir(2, 0.2f, 0.3f);
  for (int o = 0; o < 3; ++o) s.set(o, Band::swir1, 0.01f * static_cast<float>(o + 1));
  auto const out = run(params(CompositeMethod::max_ndvi, 3, kRedNir | band_set::swir1), s);
  EXPECT_EQ(plane(out, Band::red), 0.1f);
  EXPECT_EQ(plane(out, Band::nir), 0.5f);
  EXPECT_EQ(plane(out, Band::swir1), 0.02f);  // observation 1's swir1
  EXPECT_EQ(out[kClearCountPlane], 3.f);
  expect_only_bands(out, kRedNir | band_set::swir1);
}

TEST(CompositeMaxNdvi, TiesGoToTheEarliest) {
  // Observations 1 and 2 both have NDVI 0.5 (0.25/0.75 and 0.125/0.375); 0 has 0.2; 3 is
  // greener (0.8) but not clear (swir1 NaN).
  Stack s(4);
  s.red_nir(0, 0.2f, 0.3f).red_nir(1, 0.25f, 0.75f).red_nir(2, 0.125f, 0.375f).red_nir(3, 0.1f, 0.9f);
  for (int o = 0; o < 3; ++o) s.set(o, Band::swir1, 0.1f);
  auto const out = run(params(CompositeMethod::max_ndvi, 4, kRedNir | band_set::swir1), s);
  EXPECT_EQ(plane(out, Band::red), 0.25f);
  EXPECT_EQ(plane(out, Band::nir), 0.75f);
}

TEST(CompositeMaxNdvi, NanNdviRanksBelowAnyNumber) {
  // Observation 0: red = nir = 0, NDVI undefined (NaN); observation 1: NDVI -0.5 (lowest).
  Stack s(2);
  s.red_nir(0, 0.f, 0.f).red_nir(1, 0.75f, 0.25f);
  auto out = run(params(CompositeMethod::max_ndvi, 2, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 0.75f);
  // Every NDVI NaN: the earliest clear observation (0 is not clear here).
  Stack t(3);
  t.red_nir(0, kNaN, 0.f).red_nir(1, 0.f, 0.f).red_nir(2, -0.f, 0.f);
  out = run(params(CompositeMethod::max_ndvi, 3, kRedNir), t);
  EXPECT_EQ(out[kClearCountPlane], 2.f);
  EXPECT_EQ(plane(out, Band::red), 0.f);
  EXPECT_FALSE(std::signbit(plane(out, Band::red)));  // observation 1's +0, not 2's -0
}

TEST(CompositeMedoid, NearestToTheMedianVector) {
  // red 0.1 0.2 0.3 0.9, nir 0.5 0.1 0.58 0.4 -> medians (0.25, 0.45). Squared distances:
  // 0.15^2 + 0.05^2 = 0.025, 0.05^2 + 0.35^2 = 0.125, 0.05^2 + 0.13^2 = 0.0194 (the least),
  // 0.65^2 + 0.05^2 = 0.425.
  Stack s(4);
  s.red_nir(0, 0.1f, 0.5f).red_nir(1, 0.2f, 0.1f).red_nir(2, 0.3f, 0.58f).red_nir(3, 0.9f, 0.4f);
  auto const out = run(params(CompositeMethod::medoid, 4, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 0.3f);
  EXPECT_EQ(plane(out, Band::nir), 0.58f);
}

TEST(CompositeMedoid, TiesGoToTheEarliest) {
  // Two clear observations: the median vector is their midpoint, both equally far.
  Stack s(3);
  s.red_nir(0, kNaN, kNaN).red_nir(1, 0.5f, 0.25f).red_nir(2, 0.25f, 0.5f);
  auto out = run(params(CompositeMethod::medoid, 3, kRedNir), s);
  EXPECT_EQ(plane(out, Band::red), 0.5f);
  EXPECT_EQ(plane(out, Band::nir), 0.25f);
  // (red, nir, blue) = (0, 0, 1.5), (0.5, 0.5, 1), (1, 1, 1.5), (0.5, 0.5, 2): medians
  // (0.5, 0.5, 1.5); squared distances 0.5, 0.25, 0.5, 0.25: observation 1 (blue 1), not 3.
  Stack t(4);
  t.red_nir(0, 0.f, 0.f).red_nir(1, 0.5f, 0.5f).red_nir(2, 1.f, 1.f).red_nir(3, 0.5f, 0.5f);
  t.set(0, Band::blue, 1.5f).set(1, Band::blue, 1.f).set(2, Band::blue, 1.5f).set(3, Band::blue, 2.f);
  out = run(params(CompositeMethod::medoid, 4, kRedNir | band_set::blue), t);
  EXPECT_EQ(plane(out, Band::blue), 1.f);
  EXPECT_EQ(plane(out, Band::red), 0.5f);
  // Without blue composited (1 and 3 both at distance 0), the blue plane is NaN.
  out = run(params(CompositeMethod::medoid, 4, kRedNir), t);
  EXPECT_EQ(plane(out, Band::red), 0.5f);
  EXPECT_TRUE(std::isnan(plane(out, Band::blue)));
}

TEST(CompositePercentiles, LinearInterpolationAt0And100AndBetween) {
  // NDVIs -0.5, 0, 0.5, 0.75 (exact), shuffled; observation 4 has NaN NDVI (0, 0) and is left
  // out of the percentiles though clear; observation 5 is not clear.
  Stack s(6);
  s.red_nir(0, 0.25f, 0.75f).red_nir(1, 0.75f, 0.25f).red_nir(2, 0.125f, 0.875f).red_nir(3, 0.5f, 0.5f);
  s.red_nir(4, 0.f, 0.f).red_nir(5, 0.01f, kNaN);
  auto const out = run(params(CompositeMethod::median, 6, kRedNir, {0, 100, 50, 10, 25, 90}), s);
  EXPECT_EQ(out[kClearCountPlane], 5.f);
  float const* pct = out.data() + kClearCountPlane + 1;
  EXPECT_EQ(pct[0], -0.5f);  // minimum
  EXPECT_EQ(pct[1], 0.75f);  // maximum
  // 50: h = 1.5, between 0 and 0.5 -> 0.25.
  EXPECT_EQ(pct[2], 0.25f);
  // 10: h = 0.3 -> -0.5 + 0.5 * 0.3 = -0.35.
  EXPECT_EQ(pct[3], static_cast<float>(-0.35));
  // 25: h = 0.75 -> g >= 0.5: 0 - 0.5 * 0.25 = -0.125.
  EXPECT_EQ(pct[4], -0.125f);
  // 90: h = 2.7 -> 0.5 + 0.25 * 0.7 = 0.675.
  EXPECT_EQ(pct[5], static_cast<float>(0.675));
}

TEST(CompositePercentiles, OneValueAndNoNumber) {
  Stack s(2);
  s.red_nir(0, 0.25f, 0.75f).red_nir(1, 0.f, 0.f);  // NDVIs 0.5 and NaN
  auto out = run(params(CompositeMethod::max_ndvi, 2, kRedNir, {0, 37.5, 100}), s);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(out[kClearCountPlane + 1 + k], 0.5f);
  Stack t(1);
  t.red_nir(0, 0.f, 0.f);
  out = run(params(CompositeMethod::max_ndvi, 1, kRedNir, {50}), t);
  EXPECT_EQ(out[kClearCountPlane], 1.f);
  EXPECT_TRUE(std::isnan(out[kClearCountPlane + 1]));
  EXPECT_EQ(plane(out, Band::red), 0.f);  // still the (only) clear observation
}

TEST(CompositeDrivers, FunctorOverStridedPlanesEqualsEachPixelAlone) {
  // Three pixels in planes 3 floats apart, run by for_each_pixel; each equals its own
  // one-pixel stack.
  constexpr int n = 5;
  std::vector<Stack> pixels(3, Stack(n));
  for (int i = 0; i < 3; ++i)
    for (int o = 0; o < n; ++o)
      pixels[static_cast<std::size_t>(i)].red_nir(o, 0.05f * static_cast<float>((o * 7 + i) % 5),
                                                  0.1f * static_cast<float>((o * 3 + 2 * i) % 4));
  pixels[1].set(2, Band::nir, kNaN);
  for (auto m : {CompositeMethod::median, CompositeMethod::max_ndvi, CompositeMethod::medoid}) {
    auto const p = params(m, n, kRedNir, {20, 80});
    std::vector<float> obs(static_cast<std::size_t>(n) * kBandCount * 3);
    for (std::size_t k = 0; k < static_cast<std::size_t>(n) * kBandCount; ++k)
      for (std::size_t i = 0; i < 3; ++i) obs[k * 3 + i] = pixels[i].values[k];
    auto const planes = static_cast<std::size_t>(composite_output_planes(p));
    std::vector<float> out(planes * 3);
    for_each_pixel(3, CompositePixel{p, obs.data(), out.data(), 3});
    for (std::size_t i = 0; i < 3; ++i) {
      auto const alone = run(p, pixels[i]);
      for (std::size_t k = 0; k < planes; ++k) {
        float const a = out[k * 3 + i], b = alone[k];
        EXPECT_TRUE(std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)))
            << "pixel " << i << " plane " << k << ": " << a << " vs " << b;
      }
    }
  }
}

TEST(CompositeDrivers, BlockedCpuDriverEqualsTheFunctorBitForBit) {
  // run_composite_cpu copies blocks of kCompositeBlock pixels before calling composite_pixel;
  // the result must be the functor's, for a ragged last block and for every method.
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (int n : {1, 20, 37}) {
    std::size_t const pixels = 3 * kCompositeBlock + 5;
    std::vector<float> obs(static_cast<std::size_t>(n) * kBandCount * pixels);
    for (float& v : obs) v = unit(rng) < 0.15f ? kNaN : std::round(unit(rng) * 40.f) / 64.f;  // ties too
    for (auto m : {CompositeMethod::median, CompositeMethod::max_ndvi, CompositeMethod::medoid}) {
      auto const p = params(m, n, kRedNir | band_set::swir2, {0, 12.5, 50, 99});
      auto const planes = static_cast<std::size_t>(composite_output_planes(p));
      std::vector<float> a(planes * pixels, -1.f), b(planes * pixels, -2.f);
      for_each_pixel(pixels, CompositePixel{p, obs.data(), a.data(), pixels});
      run_composite_cpu(p, obs.data(), b.data(), pixels);
      std::size_t finite = 0;
      for (std::size_t k = 0; k < a.size(); ++k) {
        bool const same = std::memcmp(&a[k], &b[k], sizeof(float)) == 0 || (std::isnan(a[k]) && std::isnan(b[k]));
        ASSERT_TRUE(same) << "n " << n << " plane " << k / pixels << " pixel " << k % pixels;
        finite += std::isfinite(a[k]);
      }
      EXPECT_GT(finite, pixels * 4);  // values were compared, not only NaN
    }
  }
}

TEST(CompositeDrivers, MedianBlockEqualsTheFunctorBitForBit) {
  // Without percentiles the median rule takes run_composite_cpu's block path (median_block,
  // ranks counted for 32 pixels at once); it must give the functor's bits: ties, signed zeros
  // (any zero median is +0), pixels with no clear observation, one band NaN alone (not clear),
  // infinities (not clear), a ragged last block, and 1 to 256 observations.
  std::mt19937 rng(29);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  for (int n : {1, 2, 3, 20, 37, kMaxObservations}) {
    std::size_t const pixels = 2 * kCompositeBlock + 11;
    std::vector<float> obs(static_cast<std::size_t>(n) * kBandCount * pixels);
    for (float& v : obs) {
      float const u = unit(rng);
      v = u < 0.15f ? kNaN : u < 0.2f ? 0.f : u < 0.25f ? -0.f : u < 0.26f ? std::numeric_limits<float>::infinity()
                                                                          : std::round(unit(rng) * 40.f) / 64.f - 0.1f;
    }
    for (std::size_t i = 3; i < pixels; i += 7)  // signed zeros alone in blue: a zero median
      for (int o = 0; o < n; ++o)
        obs[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(Band::blue)) * pixels + i] =
            unit(rng) < 0.5f ? 0.f : -0.f;
    for (std::size_t i = 0; i < pixels; i += 9)  // some pixels never clear
      for (int o = 0; o < n; ++o)
        obs[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(Band::red)) * pixels + i] = kNaN;
    auto const p = params(CompositeMethod::median, n, kRedNir | band_set::blue);
    auto const planes = static_cast<std::size_t>(composite_output_planes(p));
    std::vector<float> a(planes * pixels, -1.f), b(planes * pixels, -2.f);
    for_each_pixel(pixels, CompositePixel{p, obs.data(), a.data(), pixels});
    run_composite_cpu(p, obs.data(), b.data(), pixels);
    std::size_t finite = 0, zeros = 0, empty = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      bool const same = std::memcmp(&a[k], &b[k], sizeof(float)) == 0 || (std::isnan(a[k]) && std::isnan(b[k]));
      ASSERT_TRUE(same) << "n " << n << " plane " << k / pixels << " pixel " << k % pixels << ": " << a[k] << " vs "
                        << b[k];
      finite += std::isfinite(a[k]);
      zeros += a[k] == 0.f && k / pixels != static_cast<std::size_t>(kClearCountPlane);
      empty += k / pixels == static_cast<std::size_t>(kClearCountPlane) && a[k] == 0.f;
    }
    EXPECT_GT(finite, pixels * (n >= 3 ? 3 : 2));  // values were compared, not only NaN
    EXPECT_GT(zeros, 0u);
    EXPECT_GE(empty, pixels / 9);
  }
}

TEST(CompositeParamsCheck, RefusesWhatCannotRun) {
  auto ok = params(CompositeMethod::median, 20, band_set::blue | kRedNir, {10, 90});
  EXPECT_EQ(composite_params_error(ok), nullptr);
  auto p = ok;
  p.observation_count = kMaxObservations + 1;
  EXPECT_NE(composite_params_error(p), nullptr);
  p.observation_count = kMaxObservations;
  EXPECT_EQ(composite_params_error(p), nullptr);
  p = ok;
  p.bands = 0;
  EXPECT_NE(composite_params_error(p), nullptr);
  p.bands = 1u << kBandCount;
  EXPECT_NE(composite_params_error(p), nullptr);
  p = params(CompositeMethod::max_ndvi, 4, band_set::red | band_set::swir1);
  EXPECT_NE(composite_params_error(p), nullptr);  // no nir
  p = params(CompositeMethod::medoid, 4, band_set::red | band_set::swir1);
  EXPECT_EQ(composite_params_error(p), nullptr);
  p.percentiles[p.percentile_count++] = 50;
  EXPECT_NE(composite_params_error(p), nullptr);  // NDVI percentiles without nir
  p = ok;
  p.percentiles[0] = 100.5;
  EXPECT_NE(composite_params_error(p), nullptr);
  p.percentiles[0] = std::nan("");
  EXPECT_NE(composite_params_error(p), nullptr);
  p = ok;
  p.percentile_count = kMaxCompositePercentiles + 1;
  EXPECT_NE(composite_params_error(p), nullptr);
  p = ok;
  p.method = static_cast<CompositeMethod>(7);
  EXPECT_NE(composite_params_error(p), nullptr);
}

}  // namespace

TEST(CompositeLayout, PackedBandsGiveTheDefaultLayoutsBits) {
  // The same observations stored with all six bands (default layout, the functor) and with
  // only the bands composited, packed (red, nir, swir2 -> planes 0, 1, 2; run_composite_cpu):
  // the same bits.
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  int const n = 13;
  std::size_t const pixels = 2 * kCompositeBlock + 7;
  std::uint32_t const bands = kRedNir | band_set::swir2;
  int const kept[3] = {static_cast<int>(Band::red), static_cast<int>(Band::nir), static_cast<int>(Band::swir2)};
  std::vector<float> full(static_cast<std::size_t>(n) * kBandCount * pixels, kNaN);
  std::vector<float> packed(static_cast<std::size_t>(n) * 3 * pixels, kNaN);
  for (int o = 0; o < n; ++o)
    for (int k = 0; k < 3; ++k)
      for (std::size_t i = 0; i < pixels; ++i) {
        float const v = unit(rng) < 0.2f ? kNaN : std::round(unit(rng) * 40.f) / 64.f;
        full[(static_cast<std::size_t>(o) * kBandCount + static_cast<std::size_t>(kept[k])) * pixels + i] = v;
        packed[(static_cast<std::size_t>(o) * 3 + static_cast<std::size_t>(k)) * pixels + i] = v;
      }
  for (auto m : {CompositeMethod::median, CompositeMethod::max_ndvi, CompositeMethod::medoid}) {
    auto const p = params(m, n, bands, {25, 50});
    auto q = p;
    q.planes_per_observation = 3;
    for (int k = 0; k < 3; ++k) q.band_plane[kept[k]] = k;
    ASSERT_EQ(composite_params_error(q), nullptr);
    auto const planes = static_cast<std::size_t>(composite_output_planes(p));
    std::vector<float> a(planes * pixels, -1.f), c(planes * pixels, -3.f);
    for_each_pixel(pixels, CompositePixel{p, full.data(), a.data(), pixels});
    run_composite_cpu(q, packed.data(), c.data(), pixels);
    std::size_t finite = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      bool const ac = std::memcmp(&a[k], &c[k], sizeof(float)) == 0 || (std::isnan(a[k]) && std::isnan(c[k]));
      ASSERT_TRUE(ac) << "method " << static_cast<int>(m) << " plane " << k / pixels << " pixel " << k % pixels;
      finite += std::isfinite(a[k]);
    }
    EXPECT_GT(finite, pixels * 4);
  }
  // A layout that puts two bands on one plane, or a plane outside it, is refused.
  auto bad = params(CompositeMethod::median, n, bands);
  bad.planes_per_observation = 2;
  bad.band_plane[static_cast<int>(Band::red)] = 0;
  bad.band_plane[static_cast<int>(Band::nir)] = 1;
  bad.band_plane[static_cast<int>(Band::swir2)] = 1;
  EXPECT_NE(composite_params_error(bad), nullptr);
  bad.band_plane[static_cast<int>(Band::swir2)] = 2;
  EXPECT_NE(composite_params_error(bad), nullptr);
  bad.planes_per_observation = 0;
  EXPECT_NE(composite_params_error(bad), nullptr);
}
