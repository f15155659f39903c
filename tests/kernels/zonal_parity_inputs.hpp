#pragma once
// Inputs of the zonal CPU/GPU parity tests (tests/kernels/zonal_parity_test.cu), apart from the
// CUDA code so that tests/kernels/parity_inputs_test.cpp runs the same generators, the same CPU
// reference and the same non-vacuity checks where there is no GPU.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace reclaim::test::zonal {

using pixel::ZonalItem;
/// Histogram bins of the GPU path (kernels::kZonalBins; the same as reclaim::kZonalBins).
inline constexpr int kBins = 1024;
using Histogram = pixel::HistogramAccumulator<kBins>;

/// Laid out like cuda::ZonalResults.
struct ZonalReference {
  std::vector<pixel::ValueAccumulator> values;
  std::vector<pixel::ZoneArea> areas;
  std::vector<Histogram> histograms;
  std::vector<pixel::ClassAccumulator> classes;
};

constexpr double kLo = -1.0, kHi = 1.0;  // histogram range; the values reach +-1.5 and beyond

struct Tile {
  std::size_t width = 0, rows = 0;
  std::vector<float> plane;
  std::vector<double> row_cell;  ///< pixel area per row: m2 (value planes) or class-weight units
  std::vector<ZonalItem> items;
};

inline int uniform_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

/// Values in [-1.5, 1.5] (outside the histogram range too), ~3% NaN, ~1% +-inf, and some values
/// exactly at lo (first bin) and hi (overflow), and some far outside.
inline std::vector<float> random_values(std::size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.5f, 1.5f);
  std::vector<float> out(n);
  for (auto& v : out) {
    int const roll = uniform_int(rng, 0, 99);
    v = roll < 3    ? std::nanf("")
        : roll == 3 ? (uniform_int(rng, 0, 1) ? INFINITY : -INFINITY)
        : roll == 4 ? (uniform_int(rng, 0, 1) ? static_cast<float>(kLo) : static_cast<float>(kHi))
        : roll == 5 ? 1e6f
                    : value(rng);
  }
  return out;
}

/// Classes 0..19 mostly, and the special cases: NaN (class 0), fractions (truncated), 255,
/// and invalid values (negative, > 255, inf, beyond int's range).
inline std::vector<float> random_classes(std::size_t n, std::mt19937& rng) {
  float const special[] = {std::nanf(""), -1.f, 256.f, 3.7f, 255.f, 255.5f, INFINITY, -INFINITY, -0.f, 1e10f};
  std::vector<float> out(n);
  for (auto& v : out) {
    int const roll = uniform_int(rng, 0, 99);
    v = roll < 10 ? special[roll] : static_cast<float>(uniform_int(rng, 0, 19));
  }
  return out;
}

/// Pixel areas as in a geographic CRS: a different, inexact value on each row, around `base`
/// (square metres for value planes, class-weight units for class planes).
inline std::vector<double> row_areas(std::size_t rows, double base = 900.0) {
  std::vector<double> out(rows);
  for (std::size_t r = 0; r < rows; ++r) out[r] = base * (1.0 - 1e-4 * static_cast<double>(r) + 1.37e-4);
  return out;
}

/// Items sorted by zone, as the zonal sink makes them: per zone its spans (fraction 1, or now
/// and then one partial fraction for a whole run) then its edge pixels (fractions in (0, 1)).
/// Zone 0 is a large block (many chunks); other zones are random blobs that overlap each other,
/// cross the tile's borders or miss the tile; a few items are empty.
inline std::vector<ZonalItem> random_items(std::size_t width, std::size_t rows, int zones, std::mt19937& rng) {
  auto const w = static_cast<int>(width), h = static_cast<int>(rows);
  std::uniform_real_distribution<double> frac(0.001, 0.999);
  std::vector<ZonalItem> items;
  for (int z = 0; z < zones; ++z) {
    int r0 = 0, r1 = h, c0 = w / 10, c1 = w - w / 10;
    if (z != 0) {
      if (uniform_int(rng, 0, 99) < 12) continue;  // a zone this tile misses
      int const cr = uniform_int(rng, 0, h - 1), cc = uniform_int(rng, 0, w - 1);
      int const hh = uniform_int(rng, 0, std::min(30, h / 2));
      int const hw = uniform_int(rng, 1, std::max(1, std::min(60, w / 2)));
      r0 = std::max(0, cr - hh);
      r1 = std::min(h, cr + hh + 1);
      c0 = cc - hw;
      c1 = cc + hw;
    }
    std::vector<ZonalItem> spans, edges;
    for (int r = r0; r < r1; ++r) {
      int const a = std::clamp(c0 + uniform_int(rng, 0, 3), 0, w), b = std::clamp(c1 - uniform_int(rng, 0, 3), 0, w);
      if (a < b) spans.push_back({z, r, a, b, uniform_int(rng, 0, 9) == 0 ? frac(rng) : 1.0});
      if (a >= 1) edges.push_back({z, r, a - 1, a, frac(rng)});
      if (b < w) edges.push_back({z, r, b, b + 1, frac(rng)});
      if (uniform_int(rng, 0, 40) == 0) spans.push_back({z, r, a, a, 1.0});  // empty
      if (uniform_int(rng, 0, 80) == 0) spans.push_back({z, r, a + 2, a, 1.0});  // reversed: empty too
    }
    items.insert(items.end(), spans.begin(), spans.end());
    items.insert(items.end(), edges.begin(), edges.end());
  }
  return items;
}

inline Tile random_tile(std::size_t width, std::size_t rows, int zones, bool classes, std::mt19937& rng) {
  Tile t;
  t.width = width;
  t.rows = rows;
  t.plane = classes ? random_classes(width * rows, rng) : random_values(width * rows, rng);
  t.row_cell = row_areas(rows, classes ? 1.0 : 900.0);
  t.items = random_items(width, rows, zones, rng);
  return t;
}

/// The CPU reference, accumulated the way ZonalResults is laid out.
inline ZonalReference cpu_reference(std::vector<Tile> const& tiles, int zones, bool histograms, bool classes) {
  auto const n = static_cast<std::size_t>(zones);
  ZonalReference r;
  r.values.assign(n, pixel::ValueAccumulator{});
  r.areas.assign(n, pixel::ZoneArea{});
  if (histograms) r.histograms.assign(n, Histogram::make(kLo, kHi));
  if (classes) r.classes.assign(n, pixel::ClassAccumulator{});
  for (auto const& t : tiles) {
    if (classes) {
      pixel::accumulate_class_items(t.items, t.plane.data(), t.width, t.row_cell.data(), r.classes.data());
    } else {
      pixel::accumulate_value_items<kBins>(t.items, t.plane.data(), t.width, t.row_cell.data(),
                                                r.values.data(), r.areas.data(),
                                                histograms ? r.histograms.data() : nullptr);
    }
  }
  return r;
}


/// Ragged sizes (none a multiple of the block), one much wider than a chunk.
inline std::vector<Tile> several_tiles(int zones, bool classes, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<Tile> tiles;
  for (auto [w, h] : {std::pair<std::size_t, std::size_t>{300, 200}, {257, 131}, {33, 7}, {3000, 41}})
    tiles.push_back(random_tile(w, h, zones, classes, rng));
  return tiles;
}

/// Single items of up to 5000 pixels (zones 0..2): chunks begin and end inside an item.
inline Tile long_items_tile() {
  Tile t;
  t.width = 5000;
  t.rows = 3;
  std::mt19937 rng(5);
  t.plane = random_values(t.width * t.rows, rng);
  t.row_cell = row_areas(t.rows);
  t.items = {{0, 0, 0, 5000, 1.0},   {0, 1, 0, 2500, 0.75}, {0, 2, 7, 4100, 1.0},
             {1, 1, 1, 4999, 1.0},   {1, 1, 0, 1, 0.3},     {1, 1, 4999, 5000, 0.6},
             {2, 0, 100, 4500, 0.5}, {2, 0, 4500, 4500, 1.0}, {2, 2, 0, 5000, 1.0}};
  return t;
}

/// The several-tile cases of the GPU tests, by name.
struct ZonalCase {
  char const* name;
  int zones;
  bool classes;
  bool histograms;
  unsigned seed;
};
inline std::vector<ZonalCase> zonal_parity_cases() {
  return {{"ValuesWithHistograms", 50, false, true, 4242},
          {"ValuesWithoutHistograms", 50, false, false, 99},
          {"Classes", 50, true, false, 777},
          {"RunToRun", 20, false, true, 12}};
}
inline ZonalCase zonal_case(std::string const& name) {
  for (auto const& c : zonal_parity_cases())
    if (name == c.name) return c;
  throw std::invalid_argument("no zonal parity case " + name);
}
inline std::vector<Tile> case_tiles(ZonalCase const& c) { return several_tiles(c.zones, c.classes, c.seed); }
inline ZonalReference case_reference(ZonalCase const& c, std::vector<Tile> const& tiles) {
  return cpu_reference(tiles, c.zones, c.histograms, c.classes);
}
/** @brief Value statistics worth comparing: fewer than half the zones empty (every zone of
 * `all_zones` cases non-empty), some nodata, and with histograms values under and over the range. */
inline ::testing::AssertionResult values_non_vacuous(ZonalReference const& r, bool histograms, bool all_zones = false) {
  std::uint64_t nodata = 0, under = 0, over = 0;
  std::size_t empty = 0;
  for (std::size_t z = 0; z < r.values.size(); ++z) {
    nodata += r.values[z].m_nodata_pixels;
    empty += r.values[z].m_pixels == 0;
    if (histograms) {
      under += r.histograms[z].m_under;
      over += r.histograms[z].m_over;
    }
  }
  if (r.values.empty()) return ::testing::AssertionFailure() << "no zones";
  if (all_zones ? empty > 0 : 2 * empty >= r.values.size())
    return ::testing::AssertionFailure() << empty << " of " << r.values.size() << " zones have no valid pixel";
  if (nodata == 0) return ::testing::AssertionFailure() << "no nodata pixel: the NaN path is not compared";
  if (histograms && (under == 0 || over == 0))
    return ::testing::AssertionFailure() << "histograms: " << under << " quanta under, " << over << " over the range";
  return ::testing::AssertionSuccess();
}

/// Class weights worth comparing: some invalid class, and classes 0 and 255 (the range ends).
inline ::testing::AssertionResult classes_non_vacuous(ZonalReference const& r) {
  std::uint64_t invalid = 0, class0 = 0, class255 = 0, total = 0;
  for (auto const& c : r.classes) {
    invalid += c.m_invalid;
    class0 += c.m_w[0];
    class255 += c.m_w[255];
    total += c.total_quanta();
  }
  if (invalid == 0 || class0 == 0 || class255 == 0 || total == 0)
    return ::testing::AssertionFailure() << "class weights: invalid " << invalid << ", class 0 " << class0
                                         << ", class 255 " << class255 << ", total " << total;
  return ::testing::AssertionSuccess();
}

/// The case's CPU reference is worth comparing.
inline ::testing::AssertionResult case_non_vacuous(ZonalCase const& c, ZonalReference const& r) {
  return c.classes ? classes_non_vacuous(r) : values_non_vacuous(r, c.histograms);
}

}  // namespace reclaim::test::zonal
