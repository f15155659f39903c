// Upsampling a coarse band onto the fine grid: hand-worked values, an independent float64
// bilinear formula, and tile-by-tile resampling (window from coarse_window_for) against
// resampling the whole raster at once.
//
// Convention under test (resample.hpp): fine pixel i -> coarse coordinate u = (i + 0.5) / f - 0.5;
// bilinear weights (1 - t, t) on floor(u), floor(u) + 1, neighbours clamped to the raster;
// a NaN neighbour with non-zero weight gives NaN, one with zero weight is ignored.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/resample.hpp"

namespace {

using reclaim::CoarseWindow;
using reclaim::Resampling;
using reclaim::TileWindow;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Raster {
  std::int64_t width = 0, height = 0;
  std::vector<float> v;
  [[nodiscard]] float at(std::int64_t x, std::int64_t y) const { return v[static_cast<std::size_t>(y * width + x)]; }
};

TileWindow window(std::int64_t x0, std::int64_t y0, std::int32_t w, std::int32_t h) {
  TileWindow t;
  t.x0 = x0;
  t.y0 = y0;
  t.width = w;
  t.height = h;
  return t;
}

/// Resamples the whole coarse raster onto a fine_w x fine_h grid in one call.
std::vector<float> upsample_whole(Raster const& c, int fx, int fy, std::int64_t fine_w, std::int64_t fine_h,
                                  Resampling m) {
  std::vector<float> out(static_cast<std::size_t>(fine_w * fine_h), -12345.f);
  CoarseWindow const cw{0, 0, static_cast<std::int32_t>(c.width), static_cast<std::int32_t>(c.height)};
  reclaim::upsample(c.v.data(), cw, window(0, 0, static_cast<std::int32_t>(fine_w), static_cast<std::int32_t>(fine_h)),
                    fx, fy, c.width, c.height, m, out.data());
  return out;
}

// ---- the independent oracle (float64, written from the convention, not from the code) ----

struct Taps {
  std::int64_t i0, i1;  // clamped neighbour indices
  double w0, w1;        // their weights, summing to 1
};

Taps taps(std::int64_t fine, int f, std::int64_t coarse_size) {
  double const u = (static_cast<double>(fine) + 0.5) / f - 0.5;
  double const fl = std::floor(u);
  auto clamp = [&](std::int64_t k) { return k < 0 ? 0 : (k >= coarse_size ? coarse_size - 1 : k); };
  auto const k = static_cast<std::int64_t>(fl);
  return Taps{clamp(k), clamp(k + 1), 1.0 - (u - fl), u - fl};
}

double bilinear_ref(Raster const& c, int fx, int fy, std::int64_t i, std::int64_t j) {
  Taps const tx = taps(i, fx, c.width), ty = taps(j, fy, c.height);
  std::int64_t const xs[2] = {tx.i0, tx.i1}, ys[2] = {ty.i0, ty.i1};
  double const wx[2] = {tx.w0, tx.w1}, wy[2] = {ty.w0, ty.w1};
  double sum = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b) {
      double const w = wx[a] * wy[b];
      if (w == 0.0) continue;
      double const v = c.at(xs[a], ys[b]);
      if (std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
      sum += w * v;
    }
  return sum;
}

double nearest_ref(Raster const& c, int fx, int fy, std::int64_t i, std::int64_t j) {
  // The coarse pixel whose footprint contains the fine pixel centre (clamped for a fine grid
  // that overhangs the coarse one).
  std::int64_t const x = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor((i + 0.5) / fx)), c.width - 1);
  std::int64_t const y = std::min<std::int64_t>(static_cast<std::int64_t>(std::floor((j + 0.5) / fy)), c.height - 1);
  return c.at(x, y);
}

/// Compares a fine raster against the oracle: NaN where the oracle is NaN, else within 1e-6 relative.
void expect_matches_oracle(Raster const& c, int fx, int fy, std::int64_t fine_w, std::int64_t fine_h, Resampling m,
                           std::vector<float> const& out) {
  int failures = 0;
  for (std::int64_t j = 0; j < fine_h; ++j)
    for (std::int64_t i = 0; i < fine_w; ++i) {
      double const ref = m == Resampling::bilinear ? bilinear_ref(c, fx, fy, i, j) : nearest_ref(c, fx, fy, i, j);
      float const got = out[static_cast<std::size_t>(j * fine_w + i)];
      bool const ok = std::isnan(ref) ? std::isnan(got) : std::abs(static_cast<double>(got) - ref) <= 1e-6 * std::max(1.0, std::abs(ref));
      if (!ok && failures++ < 8) ADD_FAILURE() << "fine (" << i << ", " << j << "): expected " << ref << " got " << got;
    }
  EXPECT_EQ(failures, 0);
}

Raster random_raster(std::int64_t w, std::int64_t h, unsigned seed, double nan_fraction) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(0.f, 1.f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  Raster r{w, h, std::vector<float>(static_cast<std::size_t>(w * h))};
  for (auto& x : r.v) x = coin(rng) < nan_fraction ? kNaN : value(rng);
  return r;
}

// ---- hand-worked values ----------------------------------------------------------------------

TEST(Upsample, NearestFactorTwoByHand) {
  // coarse [[0, 4], [8, 12]] -> each value repeated in a 2 x 2 block
  Raster const c{2, 2, {0, 4, 8, 12}};
  auto const out = upsample_whole(c, 2, 2, 4, 4, Resampling::nearest);
  std::vector<float> const expected{0, 0, 4, 4, 0, 0, 4, 4, 8, 8, 12, 12, 8, 8, 12, 12};
  EXPECT_EQ(out, expected);
}

TEST(Upsample, BilinearFactorTwoByHand) {
  // Fine i = 0..3 -> u = -0.25, 0.25, 0.75, 1.25. Clamped at the edges, the effective coarse
  // positions are 0, 0.25, 0.75, 1. The coarse raster [[0, 4], [8, 12]] is the plane 4x + 8y,
  // so fine (i, j) = 4 * {0, .25, .75, 1}[i] + 8 * {0, .25, .75, 1}[j]:
  //   row 0: 0 1 3 4 | row 1 (+2): 2 3 5 6 | row 2 (+6): 6 7 9 10 | row 3 (+8): 8 9 11 12
  // All exact in binary, so compared exactly.
  Raster const c{2, 2, {0, 4, 8, 12}};
  auto const out = upsample_whole(c, 2, 2, 4, 4, Resampling::bilinear);
  std::vector<float> const expected{0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12};
  EXPECT_EQ(out, expected);
}

TEST(Upsample, BilinearOneRowByHand) {
  // coarse [10, 20, 40], f = 2, fine 6: u = -0.25 (clamp -> 10), 0.25 -> 12.5, 0.75 -> 17.5,
  // 1.25 -> 20 + 0.25 * 20 = 25, 1.75 -> 35, 2.25 (clamp -> 40)
  Raster const c{3, 1, {10, 20, 40}};
  auto const out = upsample_whole(c, 2, 2, 6, 2, Resampling::bilinear);
  std::vector<float> const row{10, 12.5f, 17.5f, 25, 35, 40};
  for (int i = 0; i < 6; ++i) {
    EXPECT_FLOAT_EQ(out[static_cast<std::size_t>(i)], row[static_cast<std::size_t>(i)]) << i;
    EXPECT_FLOAT_EQ(out[static_cast<std::size_t>(6 + i)], row[static_cast<std::size_t>(i)]) << i;  // one coarse row: clamped
  }
}

TEST(Upsample, FactorThreeZeroWeightNeighboursDoNotSpreadNaN) {
  // coarse [1, NaN, 3, 5], f = 3, fine 12: u = (i - 1) / 3
  //   i=0: -1/3 clamped -> 1       i=1: u=0 -> 1 (NaN has weight 0)
  //   i=2..6: NaN carries weight 1/3, 2/3, 1, 2/3, 1/3 -> NaN
  //   i=7: u=2 -> 3 (weight 0 on 5)  i=8: 3*2/3 + 5/3 = 11/3  i=9: 3/3 + 10/3 = 13/3
  //   i=10: u=3 -> 5               i=11: 10/3 clamped -> 5
  Raster const c{4, 1, {1, kNaN, 3, 5}};
  auto const out = upsample_whole(c, 3, 3, 12, 1, Resampling::bilinear);
  double const expected[12] = {1, 1, NAN, NAN, NAN, NAN, NAN, 3, 11.0 / 3, 13.0 / 3, 5, 5};
  for (int i = 0; i < 12; ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(out[static_cast<std::size_t>(i)])) << "fine " << i;
    } else {
      EXPECT_NEAR(out[static_cast<std::size_t>(i)], expected[i], 1e-6) << "fine " << i;
    }
  }
  // The same along y (the vertical interpolation has its own zero-weight case).
  Raster const col{1, 4, {1, kNaN, 3, 5}};
  auto const out_y = upsample_whole(col, 3, 3, 1, 12, Resampling::bilinear);
  for (int j = 0; j < 12; ++j) {
    if (std::isnan(expected[j])) {
      EXPECT_TRUE(std::isnan(out_y[static_cast<std::size_t>(j)])) << "fine row " << j;
    } else {
      EXPECT_NEAR(out_y[static_cast<std::size_t>(j)], expected[j], 1e-6) << "fine row " << j;
    }
  }
}

TEST(Upsample, FactorThreeNaNInTwoDimensions) {
  // 3 x 3 coarse with NaN in the centre, f = 3 -> 9 x 9. Fine (i, j) with u or v an exact
  // integer touches only that coarse row/column: fine (1, 4) -> coarse (0, 1), fine (4, 1) ->
  // coarse (1, 0), both valid. Fine (2, 2) -> weight 1/9 on the centre -> NaN.
  Raster const c{3, 3, {1, 2, 3, 4, kNaN, 6, 7, 8, 9}};
  auto const out = upsample_whole(c, 3, 3, 9, 9, Resampling::bilinear);
  auto at = [&](int i, int j) { return out[static_cast<std::size_t>(j * 9 + i)]; };
  EXPECT_FLOAT_EQ(at(1, 4), 4.f);
  EXPECT_FLOAT_EQ(at(4, 1), 2.f);
  EXPECT_FLOAT_EQ(at(7, 4), 6.f);
  EXPECT_FLOAT_EQ(at(4, 7), 8.f);
  EXPECT_FLOAT_EQ(at(1, 1), 1.f);
  EXPECT_TRUE(std::isnan(at(2, 2)));
  EXPECT_TRUE(std::isnan(at(4, 4)));
  EXPECT_TRUE(std::isnan(at(6, 6)));
  // fine (2, 1): u = 1/3, v = 0 -> 1 * 2/3 + 2 * 1/3 = 4/3, no NaN involved
  EXPECT_NEAR(at(2, 1), 4.0 / 3, 1e-6);
  expect_matches_oracle(c, 3, 3, 9, 9, Resampling::bilinear, out);
}

TEST(Upsample, NaNWithNonZeroWeightGivesNaN) {
  // f = 2: every weight is 0.25 or 0.75, never 0, so a NaN reaches all fine pixels around it.
  Raster const c{3, 1, {1, kNaN, 3}};
  auto const out = upsample_whole(c, 2, 2, 6, 1, Resampling::bilinear);
  // u = -0.25 (clamp: 1), 0.25 (1 & NaN), 0.75, 1.25, 1.75 (NaN & 3), 2.25 (clamp: 3)
  EXPECT_FLOAT_EQ(out[0], 1.f);
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(std::isnan(out[static_cast<std::size_t>(i)])) << i;
  EXPECT_FLOAT_EQ(out[5], 3.f);
  // Nearest: NaN only on the fine pixels of the NaN coarse pixel.
  auto const near = upsample_whole(c, 2, 2, 6, 1, Resampling::nearest);
  EXPECT_FLOAT_EQ(near[1], 1.f);
  EXPECT_TRUE(std::isnan(near[2]));
  EXPECT_TRUE(std::isnan(near[3]));
  EXPECT_FLOAT_EQ(near[4], 3.f);
}

TEST(Upsample, NonSquareFactors) {
  // fx = 2, fy = 3 (not a Sentinel-2 case, but the API allows it)
  auto const c = random_raster(7, 5, 11, 0.0);
  for (auto m : {Resampling::nearest, Resampling::bilinear}) {
    auto const out = upsample_whole(c, 2, 3, 14, 15, m);
    expect_matches_oracle(c, 2, 3, 14, 15, m, out);
  }
}

// ---- whole raster vs the oracle, and tile windows vs the whole raster --------------------------

struct Case {
  int factor;
  std::int64_t coarse_w, coarse_h, fine_w, fine_h;
};

// Exact multiples, and fine grids whose last coarse pixel is only partly covered
// (101 = 2 * 51 - 1, 100 = 3 * 34 - 2).
constexpr Case kCases[] = {
    {2, 50, 40, 100, 80},
    {2, 51, 40, 101, 79},
    {3, 34, 27, 100, 80},
    {3, 20, 20, 60, 60},
};

TEST(Upsample, WholeRasterMatchesOracle) {
  for (auto const& k : kCases) {
    auto const c = random_raster(k.coarse_w, k.coarse_h, 42, 0.03);
    for (auto m : {Resampling::nearest, Resampling::bilinear}) {
      SCOPED_TRACE(testing::Message() << "factor " << k.factor << " fine " << k.fine_w << "x" << k.fine_h
                                      << (m == Resampling::bilinear ? " bilinear" : " nearest"));
      auto const out = upsample_whole(c, k.factor, k.factor, k.fine_w, k.fine_h, m);
      expect_matches_oracle(c, k.factor, k.factor, k.fine_w, k.fine_h, m, out);
    }
  }
}

/// Resamples tile `t` from only the coarse pixels coarse_window_for() asks for, copied into
/// a buffer of exactly that size.
std::vector<float> upsample_tile(Raster const& c, int f, TileWindow const& t, Resampling m) {
  CoarseWindow const cw = reclaim::coarse_window_for(t, f, f, c.width, c.height, m);
  EXPECT_GE(cw.x0, 0);
  EXPECT_GE(cw.y0, 0);
  EXPECT_GT(cw.width, 0);
  EXPECT_GT(cw.height, 0);
  EXPECT_LE(cw.x0 + cw.width, c.width);
  EXPECT_LE(cw.y0 + cw.height, c.height);
  // Every coarse pixel the oracle would touch with non-zero weight lies inside the window.
  for (std::int64_t i = t.x0; i < t.x0 + t.width; ++i) {
    Taps const tx = taps(i, f, c.width);
    std::int64_t const lo = m == Resampling::bilinear ? tx.i0 : std::min(i / f, c.width - 1);
    std::int64_t const hi = m == Resampling::bilinear ? (tx.w1 > 0 ? tx.i1 : tx.i0) : lo;
    EXPECT_GE(lo, cw.x0) << "fine x " << i;
    EXPECT_LT(hi, cw.x0 + cw.width) << "fine x " << i;
  }
  for (std::int64_t j = t.y0; j < t.y0 + t.height; ++j) {
    Taps const ty = taps(j, f, c.height);
    std::int64_t const lo = m == Resampling::bilinear ? ty.i0 : std::min(j / f, c.height - 1);
    std::int64_t const hi = m == Resampling::bilinear ? (ty.w1 > 0 ? ty.i1 : ty.i0) : lo;
    EXPECT_GE(lo, cw.y0) << "fine y " << j;
    EXPECT_LT(hi, cw.y0 + cw.height) << "fine y " << j;
  }
  std::vector<float> sub(static_cast<std::size_t>(cw.width) * static_cast<std::size_t>(cw.height));
  for (std::int32_t r = 0; r < cw.height; ++r)
    for (std::int32_t q = 0; q < cw.width; ++q)
      sub[static_cast<std::size_t>(r) * static_cast<std::size_t>(cw.width) + static_cast<std::size_t>(q)] =
          c.at(cw.x0 + q, cw.y0 + r);
  std::vector<float> out(t.pixel_count(), -12345.f);
  reclaim::upsample(sub.data(), cw, t, f, f, c.width, c.height, m, out.data());
  return out;
}

TEST(Upsample, TileStartingMidRasterMatchesWholeRaster) {
  // Tiles in the middle of the raster at even offsets (their first fine pixel needs the coarse
  // pixel before the one containing it: u = x0 / 2 - 0.25) and odd offsets.
  auto const c = random_raster(50, 40, 7, 0.02);
  for (TileWindow const t : {window(38, 22, 30, 20), window(37, 23, 30, 20), window(64, 16, 17, 33)}) {
    for (auto m : {Resampling::nearest, Resampling::bilinear}) {
      SCOPED_TRACE(testing::Message() << "tile at " << t.x0 << "," << t.y0
                                      << (m == Resampling::bilinear ? " bilinear" : " nearest"));
      auto const whole = upsample_whole(c, 2, 2, 100, 80, m);
      auto const tile = upsample_tile(c, 2, t, m);
      std::size_t mismatches = 0;
      for (std::int32_t r = 0; r < t.height; ++r)
        for (std::int32_t q = 0; q < t.width; ++q) {
          float const a = tile[static_cast<std::size_t>(r * t.width + q)];
          float const b = whole[static_cast<std::size_t>((t.y0 + r) * 100 + t.x0 + q)];
          // Same arithmetic on the same coarse values: bit-identical (NaN included).
          if (std::memcmp(&a, &b, sizeof a) != 0 && mismatches++ < 5)
            ADD_FAILURE() << "fine (" << t.x0 + q << ", " << t.y0 + r << "): tile " << a << " whole " << b;
        }
      EXPECT_EQ(mismatches, 0u);
    }
  }
}

TEST(Upsample, EveryTileOfATilingMatchesWholeRaster) {
  // Odd tile sizes so tiles start at every phase relative to the coarse grid, ragged at the edges.
  for (auto const& k : kCases) {
    auto const c = random_raster(k.coarse_w, k.coarse_h, 99, 0.03);
    for (auto m : {Resampling::nearest, Resampling::bilinear}) {
      SCOPED_TRACE(testing::Message() << "factor " << k.factor << " fine " << k.fine_w << "x" << k.fine_h
                                      << (m == Resampling::bilinear ? " bilinear" : " nearest"));
      auto const whole = upsample_whole(c, k.factor, k.factor, k.fine_w, k.fine_h, m);
      std::size_t mismatches = 0;
      for (std::int64_t y0 = 0; y0 < k.fine_h; y0 += 11)
        for (std::int64_t x0 = 0; x0 < k.fine_w; x0 += 13) {
          auto const t = window(x0, y0, static_cast<std::int32_t>(std::min<std::int64_t>(13, k.fine_w - x0)),
                                static_cast<std::int32_t>(std::min<std::int64_t>(11, k.fine_h - y0)));
          auto const tile = upsample_tile(c, k.factor, t, m);
          for (std::int32_t r = 0; r < t.height; ++r)
            for (std::int32_t q = 0; q < t.width; ++q) {
              float const a = tile[static_cast<std::size_t>(r * t.width + q)];
              float const b = whole[static_cast<std::size_t>((y0 + r) * k.fine_w + x0 + q)];
              mismatches += std::memcmp(&a, &b, sizeof a) != 0;
            }
        }
      EXPECT_EQ(mismatches, 0u);
    }
  }
}

TEST(CoarseWindowFor, HandWorked) {
  // fine x 10..15, y 4..7, f = 2: nearest needs coarse x 5..7, y 2..3; bilinear one more each side.
  auto const t = window(10, 4, 6, 4);
  auto const n = reclaim::coarse_window_for(t, 2, 2, 50, 40, Resampling::nearest);
  EXPECT_EQ(n.x0, 5);
  EXPECT_EQ(n.width, 3);
  EXPECT_EQ(n.y0, 2);
  EXPECT_EQ(n.height, 2);
  auto const b = reclaim::coarse_window_for(t, 2, 2, 50, 40, Resampling::bilinear);
  EXPECT_EQ(b.x0, 4);
  EXPECT_EQ(b.width, 5);
  EXPECT_EQ(b.y0, 1);
  EXPECT_EQ(b.height, 4);
  // Clipped at the raster's start and end: fine x 0..5 and 94..99 of a 50-wide coarse raster.
  auto const start = reclaim::coarse_window_for(window(0, 0, 6, 6), 2, 2, 50, 40, Resampling::bilinear);
  EXPECT_EQ(start.x0, 0);
  EXPECT_EQ(start.width, 4);  // coarse 0..3
  auto const end = reclaim::coarse_window_for(window(94, 74, 6, 6), 2, 2, 50, 40, Resampling::bilinear);
  EXPECT_EQ(end.x0, 46);
  EXPECT_EQ(end.width, 4);  // coarse 46..49
  EXPECT_EQ(end.y0, 36);
  EXPECT_EQ(end.height, 4);  // coarse 36..39
}

TEST(ParseResampling, Names) {
  EXPECT_EQ(reclaim::parse_resampling("nearest"), Resampling::nearest);
  EXPECT_EQ(reclaim::parse_resampling("bilinear"), Resampling::bilinear);
  EXPECT_FALSE(reclaim::parse_resampling("cubic").has_value());
  EXPECT_FALSE(reclaim::parse_resampling("").has_value());
}

}  // namespace
