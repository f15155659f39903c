// The pass dispatch shared by both backends (visit_exhaustive over PixelPass), the per-pixel
// functors both drivers run (pixel/per_pixel.hpp) and the pass-layout checks the CUDA worker
// makes before it queues anything (validate_pass). Expected values are worked by hand.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/backend.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixel/per_pixel.hpp"
#include "reclaim/visit.hpp"

namespace {

using namespace reclaim;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// ---- visit_exhaustive: the compile-time check, seen through its trait ----------------------
using AllFour = decltype(overloaded{[](pixel::FusedParams const&) {}, [](pixel::ChangeParams const&) {},
                                   [](TrendPass const&) {}, [](pixel::BandParams const&) {}});
using MissingBand =
    decltype(overloaded{[](pixel::FusedParams const&) {}, [](pixel::ChangeParams const&) {}, [](TrendPass const&) {}});
using CatchAll = decltype(overloaded{[](pixel::FusedParams const&) {}, [](auto const&) {}});

static_assert(visits_every_alternative_v<AllFour, PixelPass>);
static_assert(!visits_every_alternative_v<MissingBand, PixelPass>, "a missing alternative must be refused");
static_assert(!visits_every_alternative_v<CatchAll, PixelPass>, "a catch-all overload must be refused");

TEST(PassDispatch, VisitExhaustiveCallsTheOverloadOfTheHeldAlternative) {
  auto const which = [](PixelPass const& pass) {
    return visit_exhaustive(overloaded{[](pixel::FusedParams const&) { return std::string("fused"); },
                                       [](pixel::ChangeParams const&) { return std::string("change"); },
                                       [](TrendPass const&) { return std::string("trend"); },
                                       [](pixel::BandParams const&) { return std::string("band"); }},
                            pass);
  };
  EXPECT_EQ(which(pixel::FusedParams{}), "fused");
  EXPECT_EQ(which(pixel::ChangeParams{}), "change");
  EXPECT_EQ(which(TrendPass{}), "trend");
  EXPECT_EQ(which(pixel::BandParams{}), "band");
}

// ---- the per-pixel functors, driven by for_each_pixel -------------------------------------
// Two bands, red (plane 0) and nir (plane 1), DN -> reflectance = DN * 1e-4; NDVI worked by hand.
pixel::FusedParams ndvi_params() {
  pixel::FusedParams p;
  for (auto& c : p.calibration) c.scale = 1e-4;
  p.band_plane[static_cast<int>(pixel::Band::red)] = 0;
  p.band_plane[static_cast<int>(pixel::Band::nir)] = 1;
  p.outputs[0] = pixel::Index::ndvi;
  p.output_count = 1;
  p.input_plane_count = 2;
  return p;
}

TEST(PerPixel, FusedFunctorGivesHandWorkedNdvi) {
  // red 0.1, nir 0.5 -> (0.5 - 0.1) / 0.6 = 2/3; red 0.2, nir 0.2 -> 0; red = nir = 0 -> NaN (0/0).
  std::vector<float> const in = {1000.f, 2000.f, 0.f, /* nir */ 5000.f, 2000.f, 0.f};
  std::vector<float> out(3, -9.f);
  auto const params = ndvi_params();
  pixel::for_each_pixel(3, pixel::FusedPixel{&params, in.data(), out.data(), 3, 3});
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(2.0 / 3.0));
  EXPECT_EQ(out[1], 0.f);
  EXPECT_TRUE(std::isnan(out[2]));

  // The CPU backend's dispatch runs the same functor: same bits.
  std::vector<float> via_pass(3, -9.f);
  run_pass_cpu(PixelPass{ndvi_params()}, in.data(), via_pass.data(), 3);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(via_pass[i], out[i]) << i;
  EXPECT_TRUE(std::isnan(via_pass[2]));
}

// Two epochs, masks, nodata, every index and the visible bands as outputs, the FVC rules.
pixel::FusedParams every_output_epoch() {
  pixel::FusedParams epoch;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    epoch.calibration[b].scale = 1e-4;
    epoch.calibration[b].nodata = 0.f;
    epoch.calibration[b].has_nodata = true;
    epoch.band_plane[b] = b;
  }
  epoch.mask_plane = pixel::kBandCount;
  epoch.mask.add_class(9);
  for (int k = 0; k < pixel::kOutputKindCount; ++k) epoch.outputs[k] = static_cast<pixel::Index>(k);
  epoch.output_count = pixel::kOutputKindCount;
  epoch.input_plane_count = pixel::kBandCount + 1;
  return epoch;
}

pixel::ChangeParams every_output_change() {
  pixel::ChangeParams change;
  change.before = every_output_epoch();
  change.after = change.before;
  for (auto& plane : change.after.band_plane) plane += change.before.input_plane_count;
  change.after.mask_plane += change.before.input_plane_count;
  change.rules = pixel::default_change_rules({.vegetated_by_fvc = true});
  return change;
}

/// `planes` planes of n pixels: DNs 0..9999 (0: nodata), quality class 9 (masked) at every 7th
/// pixel of every 7th plane (the masks); a splitmix-like hash.
std::vector<float> hashed_dns(std::size_t n, int planes) {
  std::vector<float> in(n * static_cast<std::size_t>(planes));
  for (std::size_t k = 0; k < in.size(); ++k) {
    std::size_t const plane = k / n, i = k % n;
    std::uint64_t h = (k + 1) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    in[k] = plane % 7 == 6 ? (i % 7 == 0 ? 9.f : 4.f) : static_cast<float>(h % 10000u);
  }
  return in;
}

bool same_bits(std::vector<float> const& a, std::vector<float> const& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The CPU drivers write through a staging buffer of 256-pixel chunks (cpu_backend.cpp): over a
// tile that is no whole number of chunks they must give the bits of the plain per-pixel loop
// (and of the hand-worked NDVI above, through it).
TEST(PerPixel, StagedCpuDriversEqualThePlainLoopBitForBit) {
  constexpr std::size_t n = 3 * 256 + 77;
  auto const epoch = every_output_epoch();
  auto const change = every_output_change();
  auto const in = hashed_dns(n, change.input_plane_count());

  std::vector<float> plain(n * static_cast<std::size_t>(epoch.output_count), -9.f), staged = plain;
  pixel::for_each_pixel(n, pixel::FusedPixel{&epoch, in.data(), plain.data(), n, n});
  run_fused_cpu(epoch, in.data(), staged.data(), n);
  EXPECT_TRUE(same_bits(plain, staged));
  EXPECT_FALSE(std::isnan(plain[1]));  // non-vacuous: finite values and NaN both occur
  EXPECT_TRUE(std::isnan(plain[0]));   // pixel 0 is masked

  std::vector<float> plain_change(n * static_cast<std::size_t>(change.output_count()), -9.f),
      staged_change = plain_change;
  pixel::for_each_pixel(n, pixel::ChangePixel{&change, in.data(), plain_change.data(), n, n});
  run_change_cpu(change, in.data(), staged_change.data(), n);
  EXPECT_TRUE(same_bits(plain_change, staged_change));
  std::set<float> classes(plain_change.begin(), plain_change.begin() + n);
  EXPECT_GE(classes.size(), 4u);  // nodata, and several rules matched
}

// With pixel runs (TilePlan::pixels_read) the CPU drivers compute those pixels, with the plain
// loop's bits, and give every other pixel no data: class 0, NaN in every other plane, whatever
// the buffer held before.
TEST(PerPixel, CpuDriversWithRunsComputeTheRunsAndGiveTheRestNoData) {
  constexpr std::size_t n = 3 * 256 + 77;
  auto const epoch = every_output_epoch();
  auto const change = every_output_change();
  auto const in = hashed_dns(n, change.input_plane_count());
  // A lone pixel, a run across a chunk boundary, one of more than a chunk, the last pixel.
  std::vector<PixelRun> const runs = {{0, 1}, {5, 9}, {250, 262}, {300, 700}, {n - 1, n}};
  std::vector<bool> in_run(n, false);
  for (auto const& r : runs)
    for (auto i = r.begin; i < r.end; ++i) in_run[i] = true;

  std::vector<float> plain(n * static_cast<std::size_t>(change.output_count()), -9.f), with_runs = plain;
  pixel::for_each_pixel(n, pixel::ChangePixel{&change, in.data(), plain.data(), n, n});
  run_pass_cpu(PixelPass{change}, in.data(), with_runs.data(), n, &runs);
  std::size_t finite_in_runs = 0;
  for (int k = 0; k < change.output_count(); ++k)
    for (std::size_t i = 0; i < n; ++i) {
      float const got = with_runs[static_cast<std::size_t>(k) * n + i], want = plain[static_cast<std::size_t>(k) * n + i];
      if (in_run[i]) {
        EXPECT_EQ(std::memcmp(&got, &want, sizeof got), 0) << "plane " << k << " pixel " << i;
        finite_in_runs += std::isfinite(got) && k > 0;
      } else if (k == 0) {
        EXPECT_EQ(got, 0.f) << "pixel " << i;  // class 0: no data
      } else {
        EXPECT_TRUE(std::isnan(got)) << "plane " << k << " pixel " << i;
      }
    }
  EXPECT_GT(finite_in_runs, 100u);

  std::vector<float> fused_plain(n * static_cast<std::size_t>(epoch.output_count), -9.f), fused_runs = fused_plain;
  pixel::for_each_pixel(n, pixel::FusedPixel{&epoch, in.data(), fused_plain.data(), n, n});
  run_fused_cpu(epoch, in.data(), fused_runs.data(), n, &runs);
  for (std::size_t k = 0; k < fused_plain.size(); ++k) {
    if (in_run[k % n])
      EXPECT_EQ(std::memcmp(&fused_runs[k], &fused_plain[k], sizeof(float)), 0) << k;
    else
      EXPECT_TRUE(std::isnan(fused_runs[k])) << k;
  }
}

TEST(PerPixel, BandFunctorCalibratesAndMasksNodata) {
  pixel::BandParams p;
  p.calibration.scale = 0.5;
  p.calibration.offset = 1.0;
  p.calibration.nodata = -1.f;
  p.calibration.has_nodata = true;
  std::vector<float> const in = {4.f, -1.f, 0.f};
  std::vector<float> out(3, -9.f);
  pixel::for_each_pixel(3, pixel::BandPixel{p, in.data(), out.data(), 3});
  EXPECT_EQ(out[0], 3.f);  // 4 * 0.5 + 1
  EXPECT_TRUE(std::isnan(out[1]));
  EXPECT_EQ(out[2], 1.f);
}

TEST(PerPixel, BandFunctorHandsOnEveryPlane) {
  // Two planes of three pixels, identity calibration: plane k in is plane k out (reclaim composite).
  pixel::BandParams p;
  p.plane_count = 2;
  std::vector<float> const in = {1.f, 2.f, kNaN, 4.f, 5.f, 6.f};
  std::vector<float> out(6, -9.f);
  pixel::for_each_pixel(3, pixel::BandPixel{p, in.data(), out.data(), 3});
  EXPECT_EQ(out[0], 1.f);
  EXPECT_EQ(out[1], 2.f);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_EQ(out[3], 4.f);
  EXPECT_EQ(out[5], 6.f);
  EXPECT_EQ(input_plane_count(PixelPass{p}), 2);
  EXPECT_EQ(output_plane_count(PixelPass{p}), 2);
  p.plane_count = 0;
  EXPECT_THROW(validate_pass(p), logic_error);
}

TEST(PerPixel, ThresholdClassFunctor) {
  // 2 at or above the threshold, 1 below, 0 for NaN (docs/zonal.md: vegetated by NDVI).
  std::vector<float> const in = {kNaN, 0.29f, 0.3f, 0.9f, -1.f};
  std::vector<float> out(in.size(), -9.f);
  pixel::for_each_pixel(in.size(), pixel::ThresholdClassPixel{in.data(), out.data(), 0.3f});
  EXPECT_EQ(out, (std::vector<float>{0.f, 1.f, 2.f, 2.f, 1.f}));
}

TEST(PerPixel, ZeroPixelsTouchesNothing) {
  float out = -9.f;
  pixel::for_each_pixel(0, pixel::ThresholdClassPixel{nullptr, &out, 0.f});
  EXPECT_EQ(out, -9.f);
}

// ---- validate_pass ---------------------------------------------------------------------
TrendPass trend_pass(int epochs) {
  TrendPass t;
  t.epoch = ndvi_params();
  t.planes_per_epoch = 2;
  t.trend.epoch_count = epochs;
  t.trend.plane[0] = 0;
  t.trend.output_count = 1;
  return t;
}

TEST(ValidatePass, AcceptsWellFormedPasses) {
  EXPECT_NO_THROW(validate_pass(ndvi_params()));
  EXPECT_NO_THROW(validate_pass(trend_pass(5)));
  EXPECT_NO_THROW(validate_pass(pixel::BandParams{}));
  pixel::ChangeParams c;
  c.before = ndvi_params();
  c.after = ndvi_params();
  c.after.band_plane[static_cast<int>(pixel::Band::red)] = 2;
  c.after.band_plane[static_cast<int>(pixel::Band::nir)] = 3;
  EXPECT_NO_THROW(validate_pass(c));
}

TEST(ValidatePass, RefusesPlanesOutsideTheTile) {
  auto p = ndvi_params();
  p.band_plane[static_cast<int>(pixel::Band::nir)] = 2;  // only planes 0 and 1 exist
  EXPECT_THROW(validate_pass(p), logic_error);
  p = ndvi_params();
  p.mask_plane = 2;
  EXPECT_THROW(validate_pass(p), logic_error);
  p = ndvi_params();
  p.output_count = pixel::kMaxOutputs + 1;
  EXPECT_THROW(validate_pass(p), logic_error);

  pixel::ChangeParams c;  // after epoch reads plane 2 of a 4-plane tile would be fine; 4 is not
  c.before = ndvi_params();
  c.after = ndvi_params();
  c.after.band_plane[static_cast<int>(pixel::Band::nir)] = 4;
  EXPECT_THROW(validate_pass(c), logic_error);
}

TEST(ValidatePass, RefusesBadTrendLayouts) {
  EXPECT_THROW(validate_pass(trend_pass(pixel::kMaxEpochs + 1)), logic_error);
  EXPECT_THROW(validate_pass(trend_pass(-1)), logic_error);
  auto two_outputs = trend_pass(5);  // each epoch's index is one scratch plane
  two_outputs.epoch.outputs[1] = pixel::Index::evi;
  two_outputs.epoch.output_count = 2;
  EXPECT_THROW(validate_pass(two_outputs), logic_error);
  auto reads_past = trend_pass(5);  // epoch 4 would read plane 2 * 4 + 2 = 10 of 10
  reads_past.epoch.band_plane[static_cast<int>(pixel::Band::nir)] = 2;
  EXPECT_THROW(validate_pass(reads_past), logic_error);
  auto writes_past = trend_pass(5);
  writes_past.trend.plane[1] = 1;  // output_count is 1
  EXPECT_THROW(validate_pass(writes_past), logic_error);
}

}  // namespace
