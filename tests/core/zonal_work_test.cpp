// Zonal work (make_zonal_work + accumulate_tile_cpu + merge_zonal_results) end to end on a small
// raster: hand-worked numbers for simple zones, and an independent per-pixel oracle (polygon
// clipping against each pixel square with Sutherland-Hodgman, even-odd point-in-polygon for
// centres) for every zone, every coverage mode and every product. Results must not depend on
// the tiling, the tile order or how the tiles are split between workers.
#include "reclaim/zonal_work.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "reclaim/cell_area.hpp"
#include "reclaim/error.hpp"

namespace {

using reclaim::CoverageMode;
using reclaim::Grid;
using reclaim::Point;
using reclaim::Polygon;
using reclaim::ProductAccumulators;
using reclaim::Ring;
using reclaim::TileWindow;
using reclaim::Zone;
using reclaim::ZonalProduct;
using reclaim::ZonalWork;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kW = 12, kH = 10;  // pixels
constexpr double kPixel = 10.0;           // metres: 100 m2 = 0.01 ha per pixel
constexpr double kX0 = 500000.0, kY0 = 7000000.0;

Grid test_grid() {
  Grid g;
  g.width = kW;
  g.height = kH;
  g.geotransform = {kX0, kPixel, 0, kY0, 0, -kPixel};
  g.block_width = 4;
  g.block_height = 4;
  return g;
}

/// Pixel coordinates (continuous column, row) -> map coordinates.
Point geo(double px, double py) { return {kX0 + kPixel * px, kY0 - kPixel * py}; }

Ring rect_ring(double px0, double py0, double px1, double py1) {
  return {geo(px0, py0), geo(px1, py0), geo(px1, py1), geo(px0, py1)};
}

Zone make_zone(std::string id, std::vector<Polygon> parts) {
  Zone z;
  z.id = std::move(id);
  z.parts = std::move(parts);
  if (!z.parts.empty()) {
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (auto const& p : z.parts)
      for (auto const& v : p.outer) {
        x0 = std::min(x0, v.x), y0 = std::min(y0, v.y), x1 = std::max(x1, v.x), y1 = std::max(y1, v.y);
      }
    z.bbox = {x0, y0, x1, y1};
  }
  return z;
}

// Value plane: v = px + 10 py (exact in float), NaN at (7, 4). Class plane: (px + py) % 3, NaN
// (class 0) at (3, 3), 7 at (11, 9).
float value_at(std::int64_t x, std::int64_t y) {
  if (x == 7 && y == 4) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(x + 10 * y);
}
float class_at(std::int64_t x, std::int64_t y) {
  if (x == 3 && y == 3) return std::numeric_limits<float>::quiet_NaN();
  if (x == 11 && y == 9) return 7.0f;
  return static_cast<float>((x + y) % 3);
}

// ---- the independent oracle ----------------------------------------------------------------

double ring_area(std::vector<Point> const& r) {  // shoelace, unsigned
  double a = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    auto const& p = r[i];
    auto const& q = r[(i + 1) % r.size()];
    a += p.x * q.y - q.x * p.y;
  }
  return std::abs(a) / 2;
}

/// Sutherland-Hodgman: the part of `poly` inside the axis-aligned box (any simple polygon
/// against a convex window; the area of the result is exact for this use).
std::vector<Point> clip_box(std::vector<Point> poly, double x0, double y0, double x1, double y1) {
  auto clip = [&](auto inside, auto cross) {
    std::vector<Point> out;
    for (std::size_t i = 0; i < poly.size(); ++i) {
      Point const a = poly[i], b = poly[(i + 1) % poly.size()];
      bool const ia = inside(a), ib = inside(b);
      if (ia && ib) out.push_back(b);
      else if (ia && !ib) out.push_back(cross(a, b));
      else if (!ia && ib) {
        out.push_back(cross(a, b));
        out.push_back(b);
      }
    }
    poly = std::move(out);
  };
  auto at_x = [](double x) {
    return [x](Point a, Point b) { return Point{x, a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x)}; };
  };
  auto at_y = [](double y) {
    return [y](Point a, Point b) { return Point{a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y), y}; };
  };
  clip([&](Point p) { return p.x >= x0; }, at_x(x0));
  if (!poly.empty()) clip([&](Point p) { return p.x <= x1; }, at_x(x1));
  if (!poly.empty()) clip([&](Point p) { return p.y >= y0; }, at_y(y0));
  if (!poly.empty()) clip([&](Point p) { return p.y <= y1; }, at_y(y1));
  return poly;
}

/// Even-odd test with a ray to the LEFT of the point: a crossing counts when it lies strictly
/// left of p and the edge spans p.y half-open. This is the documented tie rule of center mode
/// (coverage.hpp): a centre exactly on the boundary belongs to the polygon on its left.
bool in_ring(std::vector<Point> const& r, Point p) {
  bool in = false;
  for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++)
    if ((r[i].y > p.y) != (r[j].y > p.y) &&
        (r[j].x - r[i].x) * (p.y - r[i].y) / (r[j].y - r[i].y) + r[i].x < p.x)
      in = !in;
  return in;
}

/// A ring in pixel units (column, row as continuous values): the oracle works near the origin so
/// that the shoelace sums keep their precision (map coordinates near 7e6 would lose ~1e-5 px^2).
std::vector<Point> to_pixels(Ring const& r) {
  std::vector<Point> out;
  for (auto const& v : r) out.push_back({(v.x - kX0) / kPixel, (kY0 - v.y) / kPixel});
  return out;
}

/// Weight of grid pixel (x, y) in the zone under `mode`, computed without the engine's code.
double oracle_weight(Zone const& z, std::int64_t x, std::int64_t y, CoverageMode mode) {
  double const x0 = static_cast<double>(x), x1 = x0 + 1, y0 = static_cast<double>(y), y1 = y0 + 1;
  double f = 0;
  bool centre_in = false;
  Point const c{x0 + 0.5, y0 + 0.5};
  for (auto const& part : z.parts) {
    auto const outer = to_pixels(part.outer);
    f += ring_area(clip_box(outer, x0, y0, x1, y1));
    bool in = in_ring(outer, c);
    for (auto const& h : part.holes) {
      auto const hole = to_pixels(h);
      f -= ring_area(clip_box(hole, x0, y0, x1, y1));
      in = in && !in_ring(hole, c);
    }
    centre_in = centre_in || in;
  }
  switch (mode) {
    case CoverageMode::exact: return f < 1e-12 ? 0.0 : (f > 1 - 1e-12 ? 1.0 : f);
    case CoverageMode::center: return centre_in ? 1.0 : 0.0;
    case CoverageMode::all_touched: return f > 1e-12 ? 1.0 : 0.0;
  }
  return 0;
}

struct Expected {
  double weight = 0, nodata_weight = 0, sum = 0, min = kNaN, max = kNaN, area_m2 = 0, valid_area_m2 = 0;
  std::map<int, double> class_weight;  // class plane
  std::map<int, double> veg_weight;    // threshold classes of the value plane (>= 30)
  std::vector<std::pair<double, double>> values;  // (value, weight), valid only
  [[nodiscard]] double mean() const { return weight > 0 ? sum / weight : kNaN; }
  /// Weighted inverted-CDF percentile: smallest x with weight(values <= x) >= p/100 * total.
  [[nodiscard]] double percentile(double p) const {
    auto v = values;
    std::sort(v.begin(), v.end());
    double const rank = p / 100 * weight;
    double cum = 0;
    for (auto const& [x, w] : v)
      if ((cum += w) >= rank - 1e-12) return x;
    return kNaN;
  }
};

Expected oracle(Zone const& z, CoverageMode mode) {
  Expected e;
  for (std::int64_t y = 0; y < kH; ++y)
    for (std::int64_t x = 0; x < kW; ++x) {
      double const w = oracle_weight(z, x, y, mode);
      if (w <= 0) continue;
      e.area_m2 += w * kPixel * kPixel;
      float const v = value_at(x, y);
      if (std::isnan(v)) {
        e.nodata_weight += w;
        e.veg_weight[0] += w;
      } else {
        e.weight += w;
        e.sum += w * static_cast<double>(v);
        e.valid_area_m2 += w * kPixel * kPixel;
        double const vd = v;
        e.min = std::isnan(e.min) ? vd : std::min(e.min, vd);
        e.max = std::isnan(e.max) ? vd : std::max(e.max, vd);
        e.values.emplace_back(v, w);
        e.veg_weight[v >= 30.0f ? 2 : 1] += w;
      }
      float const c = class_at(x, y);
      e.class_weight[std::isnan(c) ? 0 : static_cast<int>(c)] += w;
    }
  return e;
}

// ---- the zones ---------------------------------------------------------------------------------

std::vector<Zone> test_zones() {
  std::vector<Zone> zones;
  // 0: a square on pixel edges, px [2, 6) x py [2, 5): 12 whole pixels over four 4x4 tiles.
  zones.push_back(make_zone("square", {Polygon{rect_ring(2, 2, 6, 5), {}}}));
  // 1: two parts: px [6, 6.6) x py [0, 2) (two pixels 60 % covered, centres inside) and
  //    px [8, 8.4) x py [0, 1) (one pixel 40 % covered, centre outside).
  zones.push_back(make_zone("partial", {Polygon{rect_ring(6, 0, 6.6, 2), {}}, Polygon{rect_ring(8, 0, 8.4, 1), {}}}));
  // 2: a right triangle, legs 4 px: (0, 6), (4, 6), (0, 10); hypotenuse px + py = 10.
  zones.push_back(make_zone("triangle", {Polygon{{geo(0, 6), geo(4, 6), geo(0, 10)}, {}}}));
  // 3: px [7, 11) x py [4, 8) with a hole px [8, 10) x py [5, 7): 12 pixels, (7, 4) is NaN.
  zones.push_back(make_zone("holed", {Polygon{rect_ring(7, 4, 11, 8), {rect_ring(8, 5, 10, 7)}}}));
  // 4: no geometry.
  zones.push_back(make_zone("empty", {}));
  // 5: px [10, 14) x py [8, 12): only 2 x 2 pixels inside the 12 x 10 grid.
  zones.push_back(make_zone("edge", {Polygon{rect_ring(10, 8, 14, 12), {}}}));
  // 6: a slanted quadrilateral with a slanted hole: nothing on pixel edges.
  zones.push_back(make_zone("slanted", {Polygon{{geo(4.3, 5.2), geo(7.9, 6.1), geo(6.7, 9.6), geo(3.6, 8.8)},
                                                {{geo(5.1, 6.9), geo(6.2, 7.3), geo(5.4, 8.1)}}}}));
  return zones;
}

ZonalProduct product(std::string name, int plane, bool categorical = false) {
  ZonalProduct p;
  p.name = std::move(name);
  p.plane = plane;
  p.categorical = categorical;
  return p;
}

std::vector<ZonalProduct> test_products() {
  ZonalProduct value = product("v", 0);
  value.histograms = true;
  value.histogram_lo = 0;
  value.histogram_hi = 128;  // bins 0.125 wide
  ZonalProduct cls = product("cls", 1, true);
  ZonalProduct veg = product("veg", 0, true);
  veg.threshold = 30.0;
  return {value, cls, veg};
}

/// Tiles of tw x th pixels over the grid (ragged at the right and bottom).
std::vector<TileWindow> tiles_of(std::int32_t tw, std::int32_t th) {
  std::vector<TileWindow> tiles;
  for (std::int64_t y = 0; y < kH; y += th)
    for (std::int64_t x = 0; x < kW; x += tw)
      tiles.push_back({static_cast<std::int64_t>(tiles.size()), x, y,
                       static_cast<std::int32_t>(std::min<std::int64_t>(tw, kW - x)),
                       static_cast<std::int32_t>(std::min<std::int64_t>(th, kH - y))});
  return tiles;
}

std::vector<float> tile_planes(TileWindow const& w) {
  std::vector<float> p(2 * w.pixel_count());
  for (std::int32_t r = 0; r < w.height; ++r)
    for (std::int32_t c = 0; c < w.width; ++c) {
      std::size_t const i = static_cast<std::size_t>(r) * static_cast<std::size_t>(w.width) + static_cast<std::size_t>(c);
      p[i] = value_at(w.x0 + c, w.y0 + r);
      p[w.pixel_count() + i] = class_at(w.x0 + c, w.y0 + r);
    }
  return p;
}

/// Runs the pass's zonal part: tiles in `order`, dealt round-robin to `workers` accumulators,
/// merged in worker order.
std::vector<ProductAccumulators> run(ZonalWork const& work, std::vector<TileWindow> const& tiles,
                                     std::vector<std::size_t> const& order, int workers) {
  std::vector<std::vector<ProductAccumulators>> acc(static_cast<std::size_t>(workers));
  for (auto& a : acc) a = work.make_accumulators();
  std::vector<float> scratch;
  for (std::size_t k = 0; k < order.size(); ++k) {
    auto const t = order[k];
    auto const planes = tile_planes(tiles[t]);
    reclaim::accumulate_tile_cpu(work, t, planes.data(), 2, static_cast<std::size_t>(tiles[t].width),
                                 tiles[t].pixel_count(), acc[k % acc.size()], scratch);
  }
  std::vector<ProductAccumulators> merged;
  for (auto const& a : acc) reclaim::merge_zonal_results(merged, a);
  return merged;
}

std::vector<ProductAccumulators> run_tiled(CoverageMode mode, std::int32_t tw, std::int32_t th, unsigned seed = 0,
                                           int workers = 1) {
  auto const zones = test_zones();
  auto const tiles = tiles_of(tw, th);
  auto const work = reclaim::make_zonal_work(test_grid(), tiles, zones, mode, false, test_products(), 2);
  std::vector<std::size_t> order(tiles.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (seed) std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  return run(work, tiles, order, workers);
}

constexpr double kTol = 1e-9;

// ---- hand-worked numbers ---------------------------------------------------------------------

TEST(ZonalWork, SquareOnPixelEdgesAcrossFourTiles) {
  for (auto mode : {CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched}) {
    auto const r = run_tiled(mode, 4, 4);
    auto const& v = r[0];
    // Pixels px 2..5, py 2..4: values 22..25, 32..35, 42..45.
    EXPECT_EQ(v.values[0].weight(), 12.0);
    EXPECT_EQ(v.values[0].pixels(), 12u);
    EXPECT_EQ(v.values[0].sum(), 402.0);
    EXPECT_EQ(v.values[0].mean(), 33.5);
    EXPECT_EQ(v.values[0].min(), 22.0);
    EXPECT_EQ(v.values[0].max(), 45.0);
    EXPECT_DOUBLE_EQ(reclaim::value_stat(v, 0, "area_ha"), 0.12);
    EXPECT_DOUBLE_EQ(reclaim::value_stat(v, 0, "valid_area_ha"), 0.12);
    // Population variance of {22..25, 32..35, 42..45}: columns add 1.25, rows add 100 * 2/3.
    EXPECT_NEAR(v.values[0].variance(), 1.25 + 200.0 / 3.0, 1e-12);
    // Median (inverted CDF): the 6th of 12 sorted values, 33, within one 0.125 bin.
    EXPECT_NEAR(reclaim::value_stat(v, 0, "median"), 33.0, 0.125 + 1e-12);
    // Classes (x + y) % 3, (3, 3) NaN -> 0: hand count over the 12 pixels.
    //   class 0: (2,4) (3,3)->nodata... counted below from the formula.
    int counts[3] = {0, 0, 0}, nodata = 0;
    for (int y = 2; y < 5; ++y)
      for (int x = 2; x < 6; ++x) {
        if (x == 3 && y == 3) ++nodata;
        else ++counts[(x + y) % 3];
      }
    EXPECT_EQ(nodata, 1);
    EXPECT_DOUBLE_EQ(r[1].class_ha(0, 0), (counts[0] + nodata) * 0.01);
    EXPECT_DOUBLE_EQ(r[1].class_ha(0, 1), counts[1] * 0.01);
    EXPECT_DOUBLE_EQ(r[1].class_ha(0, 2), counts[2] * 0.01);
    EXPECT_DOUBLE_EQ(r[1].areas[0].area_m2.value(), 1200.0);
    // Vegetated (v >= 30): rows py 3 and 4 (8 pixels); below: row 2 (4 pixels).
    EXPECT_DOUBLE_EQ(r[2].class_ha(0, 2), 0.08);
    EXPECT_DOUBLE_EQ(r[2].class_ha(0, 1), 0.04);
    EXPECT_EQ(r[2].class_ha(0, 0), 0.0);
    EXPECT_EQ(r[2].classes[0].majority(), 2);
  }
}

TEST(ZonalWork, PartlyCoveredPixelsByMode) {
  // Pixels (6,0) = 6 and (6,1) = 16 covered 0.6 with centres inside; (8,0) = 8 covered 0.4,
  // centre outside.
  auto const exact = run_tiled(CoverageMode::exact, 4, 4)[0];
  EXPECT_NEAR(exact.values[1].weight(), 1.6, kTol);
  EXPECT_NEAR(exact.values[1].sum(), 0.6 * 6 + 0.6 * 16 + 0.4 * 8, kTol);
  EXPECT_NEAR(exact.values[1].mean(), 16.4 / 1.6, kTol);
  EXPECT_EQ(exact.values[1].min(), 6.0);
  EXPECT_EQ(exact.values[1].max(), 16.0);
  EXPECT_EQ(exact.values[1].pixels(), 3u);
  EXPECT_NEAR(reclaim::value_stat(exact, 1, "area_ha"), 0.016, kTol);

  auto const center = run_tiled(CoverageMode::center, 4, 4)[0];
  EXPECT_EQ(center.values[1].weight(), 2.0);
  EXPECT_EQ(center.values[1].mean(), 11.0);
  EXPECT_EQ(center.values[1].max(), 16.0);
  EXPECT_DOUBLE_EQ(reclaim::value_stat(center, 1, "area_ha"), 0.02);

  auto const touched = run_tiled(CoverageMode::all_touched, 4, 4)[0];
  EXPECT_EQ(touched.values[1].weight(), 3.0);
  EXPECT_EQ(touched.values[1].mean(), 10.0);
  EXPECT_EQ(touched.values[1].min(), 6.0);
  EXPECT_DOUBLE_EQ(reclaim::value_stat(touched, 1, "area_ha"), 0.03);
}

TEST(ZonalWork, TriangleExactAndAllTouched) {
  // Legs of 4 pixels: 6 whole pixels (i + j <= 8 for pixel [i, i+1] x [j, j+1], j >= 6) and 4
  // halves on the hypotenuse (i + j = 9); pixels meeting it at a corner only are left out.
  double w = 0, sum = 0;
  int whole = 0, halves = 0;
  for (int j = 6; j < 10; ++j)
    for (int i = 0; i < 4; ++i) {
      if (i + j <= 8) {
        ++whole;
        w += 1, sum += i + 10 * j;
      } else if (i + j == 9) {
        ++halves;
        w += 0.5, sum += 0.5 * (i + 10 * j);
      }
    }
  ASSERT_EQ(whole, 6);
  ASSERT_EQ(halves, 4);
  auto const exact = run_tiled(CoverageMode::exact, 4, 4)[0];
  EXPECT_NEAR(exact.values[2].weight(), 8.0, kTol);  // = area of the triangle in pixels
  EXPECT_NEAR(exact.values[2].sum(), sum, kTol);
  EXPECT_NEAR(reclaim::value_stat(exact, 2, "area_ha"), 0.08, kTol);
  auto const touched = run_tiled(CoverageMode::all_touched, 4, 4)[0];
  EXPECT_EQ(touched.values[2].weight(), 10.0);
  EXPECT_EQ(touched.values[2].pixels(), 10u);
}

TEST(ZonalWork, HoleAndNodata) {
  for (auto mode : {CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched}) {
    auto const r = run_tiled(mode, 4, 4);
    auto const& v = r[0];
    // 16 - 4 = 12 pixels; (7, 4) is NaN: 11 valid with sum 16*63.5 - 4*63.5 - 47 = 715.
    EXPECT_EQ(v.values[3].weight(), 11.0);
    EXPECT_EQ(v.values[3].nodata_weight(), 1.0);
    EXPECT_EQ(v.values[3].sum(), 715.0);
    EXPECT_EQ(v.values[3].mean(), 65.0);
    EXPECT_EQ(v.values[3].min(), 48.0);  // (8, 4)
    EXPECT_EQ(v.values[3].max(), 80.0);  // (10, 7)
    EXPECT_DOUBLE_EQ(reclaim::value_stat(v, 3, "area_ha"), 0.12);
    EXPECT_DOUBLE_EQ(reclaim::value_stat(v, 3, "valid_area_ha"), 0.11);
    EXPECT_DOUBLE_EQ(reclaim::value_stat(v, 3, "coverage"), 11.0 / 12.0);
    // The hole's pixels (8..9, 5..6) are never counted: max stays 80 even though 69 < 80, and
    // the threshold product sees the NaN as class 0.
    EXPECT_DOUBLE_EQ(r[2].class_ha(3, 0), 0.01);
    EXPECT_DOUBLE_EQ(r[2].class_ha(3, 2), 0.11);
  }
}

TEST(ZonalWork, EmptyZoneAndZoneAtTheRasterEdge) {
  auto const r = run_tiled(CoverageMode::exact, 4, 4);
  EXPECT_EQ(r[0].values[4].weight(), 0.0);
  EXPECT_TRUE(std::isnan(r[0].values[4].mean()));
  EXPECT_TRUE(std::isnan(reclaim::value_stat(r[0], 4, "median")));
  EXPECT_EQ(reclaim::value_stat(r[0], 4, "area_ha"), 0.0);
  EXPECT_EQ(r[1].classes[4].majority(), -1);
  // Only (10, 8), (11, 8), (10, 9), (11, 9) lie on the grid: 90 + 91 + 100 + 101.
  EXPECT_EQ(r[0].values[5].weight(), 4.0);
  EXPECT_EQ(r[0].values[5].sum(), 382.0);
  EXPECT_DOUBLE_EQ(reclaim::value_stat(r[0], 5, "area_ha"), 0.04);
  // (11, 9) holds class 7; classes of the other three: (18 % 3, 19 % 3, 19 % 3) = 0, 1, 1.
  EXPECT_DOUBLE_EQ(r[1].class_ha(5, 7), 0.01);
  EXPECT_DOUBLE_EQ(r[1].class_ha(5, 0), 0.01);
  EXPECT_DOUBLE_EQ(r[1].class_ha(5, 1), 0.02);
  EXPECT_DOUBLE_EQ(r[1].classes[5].fraction(1), 0.5);
  EXPECT_EQ(r[1].classes[5].majority(), 1);
}

// ---- every zone, every mode, against the geometric oracle ------------------------------------

class ZonalWorkOracle : public ::testing::TestWithParam<CoverageMode> {};

TEST_P(ZonalWorkOracle, EveryZoneMatchesIndependentGeometry) {
  auto const mode = GetParam();
  auto const zones = test_zones();
  auto const r = run_tiled(mode, 4, 4);
  for (std::size_t z = 0; z < zones.size(); ++z) {
    SCOPED_TRACE(zones[z].id);
    auto const e = oracle(zones[z], mode);
    auto const& v = r[0].values[z];
    EXPECT_NEAR(v.weight(), e.weight, kTol);
    EXPECT_NEAR(v.nodata_weight(), e.nodata_weight, kTol);
    EXPECT_NEAR(v.sum(), e.sum, 1e-7);
    if (e.weight > 0) {
      EXPECT_NEAR(v.mean(), e.mean(), 1e-9);
      EXPECT_EQ(v.min(), e.min);
      EXPECT_EQ(v.max(), e.max);
      double const bin = 128.0 / reclaim::kZonalBins;
      EXPECT_NEAR(reclaim::value_stat(r[0], z, "median"), e.percentile(50), bin + 1e-9);
      EXPECT_NEAR(reclaim::value_stat(r[0], z, "p90"), e.percentile(90), bin + 1e-9);
    } else {
      EXPECT_TRUE(std::isnan(v.mean()));
    }
    EXPECT_NEAR(r[0].areas[z].area_m2.value(), e.area_m2, 1e-6);
    EXPECT_NEAR(r[0].areas[z].valid_area_m2.value(), e.valid_area_m2, 1e-6);
    EXPECT_NEAR(r[1].areas[z].area_m2.value(), e.area_m2, 1e-6);
    for (int c = 0; c < 8; ++c) {
      double const want = e.class_weight.count(c) ? e.class_weight.at(c) * 0.01 : 0.0;
      EXPECT_NEAR(r[1].class_ha(z, c), want, 1e-9) << "class " << c;
    }
    for (int c = 0; c < 3; ++c) {
      double const want = e.veg_weight.count(c) ? e.veg_weight.at(c) * 0.01 : 0.0;
      EXPECT_NEAR(r[2].class_ha(z, c), want, 1e-9) << "veg class " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ZonalWorkOracle,
                         ::testing::Values(CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched));

// ---- tiling, order and workers do not change the result ---------------------------------------

void expect_identical(std::vector<ProductAccumulators> const& a, std::vector<ProductAccumulators> const& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t p = 0; p < a.size(); ++p) {
    ASSERT_EQ(a[p].values.size(), b[p].values.size());
    for (std::size_t z = 0; z < a[p].values.size(); ++z) {
      SCOPED_TRACE("product " + std::to_string(p) + " zone " + std::to_string(z));
      auto const &x = a[p].values[z], &y = b[p].values[z];
      EXPECT_TRUE(x.m_weight == y.m_weight);
      EXPECT_TRUE(x.m_nodata_weight == y.m_nodata_weight);
      EXPECT_TRUE(x.m_sum == y.m_sum);
      EXPECT_EQ(x.pixels(), y.pixels());
      if (x.pixels() > 0) {
        EXPECT_EQ(x.min(), y.min());
        EXPECT_EQ(x.max(), y.max());
        EXPECT_TRUE(x.m_sum2 == y.m_sum2);
        EXPECT_EQ(x.variance(), y.variance());  // exact sums: bit-identical
      }
      EXPECT_TRUE(a[p].areas[z].area_m2 == b[p].areas[z].area_m2);
      EXPECT_TRUE(a[p].areas[z].valid_area_m2 == b[p].areas[z].valid_area_m2);
      if (!a[p].histograms.empty()) {
        EXPECT_TRUE(std::equal(std::begin(a[p].histograms[z].m_bin), std::end(a[p].histograms[z].m_bin),
                               std::begin(b[p].histograms[z].m_bin)));
      }
      if (!a[p].classes.empty()) {
        EXPECT_TRUE(std::equal(std::begin(a[p].classes[z].m_w), std::end(a[p].classes[z].m_w),
                               std::begin(b[p].classes[z].m_w)));
      }
    }
  }
}

TEST(ZonalWork, SameResultWhateverTheTiling) {
  for (auto mode : {CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched}) {
    auto const one = run_tiled(mode, static_cast<std::int32_t>(kW), static_cast<std::int32_t>(kH));
    expect_identical(one, run_tiled(mode, 4, 4));
    expect_identical(one, run_tiled(mode, 3, 2, 7u));
    expect_identical(one, run_tiled(mode, 5, 3, 11u, 3));  // shuffled, dealt to three workers
    expect_identical(one, run_tiled(mode, 1, 1, 13u, 2));
  }
}

TEST(ZonalWork, ItemsCoverOnlyTheirTile) {
  auto const zones = test_zones();
  auto const tiles = tiles_of(4, 4);
  auto const work = reclaim::make_zonal_work(test_grid(), tiles, zones, CoverageMode::exact, false, test_products());
  ASSERT_EQ(work.tiles.size(), tiles.size());
  EXPECT_EQ(work.zone_count, zones.size());
  EXPECT_DOUBLE_EQ(work.class_unit_m2, 100.0);
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    auto const& items = work.tiles[t].items;
    for (std::size_t i = 0; i < items.size(); ++i) {
      auto const& it = items[i];
      EXPECT_GE(it.row, 0);
      EXPECT_LT(it.row, tiles[t].height);
      EXPECT_GE(it.col_begin, 0);
      EXPECT_LE(it.col_end, tiles[t].width);
      EXPECT_LT(it.col_begin, it.col_end);
      EXPECT_GT(it.fraction, 0.0);
      EXPECT_LE(it.fraction, 1.0);
      if (i > 0) {
        EXPECT_LE(items[i - 1].zone, it.zone) << "items sorted by zone";
      }
    }
    if (!items.empty()) {
      ASSERT_EQ(work.tiles[t].row_m2.size(), static_cast<std::size_t>(tiles[t].height));
      for (double a : work.tiles[t].row_m2) EXPECT_DOUBLE_EQ(a, 100.0);
      for (double u : work.tiles[t].row_units) EXPECT_EQ(u, 1.0);
    }
  }
  // The zone without geometry gets no items anywhere.
  for (auto const& t : work.tiles)
    for (auto const& it : t.items) EXPECT_NE(it.zone, 4);
}

TEST(ZonalWork, MergeRejectsDifferentShapes) {
  auto const a = ProductAccumulators::make(test_products()[0], 3);
  auto b = ProductAccumulators::make(test_products()[0], 4);
  EXPECT_THROW(b.merge(a), reclaim::input_error);
  auto c = ProductAccumulators::make(test_products()[1], 3, 100.0);
  auto const d = ProductAccumulators::make(test_products()[1], 3, 400.0);
  EXPECT_THROW(c.merge(d), reclaim::input_error);
}

// ---- a geographic grid: areas per row on the ellipsoid --------------------------------------

/// WGS84 area between two latitudes over dlon degrees (Snyder 1987 eq. 3-12), naive evaluation.
double ellipsoid_band_m2(double lat1, double lat2, double dlon) {
  double const a = 6378137.0, f = 1 / 298.257223563, b = a * (1 - f);
  double const e = std::sqrt(1 - (b * b) / (a * a));
  auto q = [e](double phi) {
    double const s = std::sin(phi);
    return s / (1 - e * e * s * s) + 1 / (2 * e) * std::log((1 + e * s) / (1 - e * s));
  };
  constexpr double kDeg = 3.14159265358979323846 / 180;
  return std::abs(b * b * dlon * kDeg / 2 * (q(lat2 * kDeg) - q(lat1 * kDeg)));
}

TEST(ZonalWork, GeographicGridUsesEllipsoidalRowAreas) {
  Grid g;
  g.width = 8;
  g.height = 8;
  double const d = 0.01;  // degrees
  g.geotransform = {140.0, d, 0, -30.0, 0, -d};
  auto gp = [&](double px, double py) { return Point{140.0 + d * px, -30.0 - d * py}; };
  Zone z = make_zone("geo", {Polygon{{gp(1, 1), gp(5, 1), gp(5, 6), gp(1, 6)}, {}}});  // 4 x 5 pixels
  std::vector<TileWindow> tiles{{0, 0, 0, 8, 3}, {1, 0, 3, 8, 5}};  // split between rows 2 and 3
  std::vector<ZonalProduct> products{product("v", 0), product("c", 1, true)};
  auto const work = reclaim::make_zonal_work(g, tiles, std::span<Zone const>(&z, 1), CoverageMode::exact, true, products);
  auto acc = work.make_accumulators();
  std::vector<float> scratch;
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    std::vector<float> planes(2 * tiles[t].pixel_count(), 1.0f);
    reclaim::accumulate_tile_cpu(work, t, planes.data(), 2, 8, tiles[t].pixel_count(), acc, scratch);
  }
  double want = 0;
  for (int row = 1; row < 6; ++row) want += 4 * ellipsoid_band_m2(-30.0 - d * row, -30.0 - d * (row + 1), d);
  EXPECT_NEAR(acc[0].areas[0].area_m2.value(), want, want * 1e-9);
  EXPECT_NEAR(acc[1].class_ha(0, 1), want * 1e-4, want * 1e-4 * 1e-6);  // quantised class weights
  EXPECT_NEAR(acc[0].values[0].weight(), 20.0, 1e-9);  // degree coordinates round at ~1e-12 px
}

}  // namespace
