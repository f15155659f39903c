// Polygon -> pixel coverage: closed-form areas, an independent per-pixel clipping reference
// (Sutherland-Hodgman against each pixel square), and a point-in-polygon reference for center.
#include "reclaim/coverage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <random>
#include <vector>

#include "reclaim/error.hpp"

namespace {

using reclaim::CoverageMode;
using reclaim::Grid;
using reclaim::Point;
using reclaim::Polygon;
using reclaim::Ring;
using reclaim::TileWindow;
using reclaim::ZoneCoverage;

Grid make_grid(std::int64_t w, std::int64_t h, std::array<double, 6> gt) {
  Grid g;
  g.width = w;
  g.height = h;
  g.geotransform = gt;
  return g;
}

TileWindow whole(Grid const& g) {
  return TileWindow{0, 0, 0, static_cast<std::int32_t>(g.width), static_cast<std::int32_t>(g.height)};
}

/// Pixel coordinates (column, row as continuous values) -> CRS.
Point geo(Grid const& g, double px, double py) {
  auto const& t = g.geotransform;
  return {t[0] + px * t[1], t[3] + py * t[5]};
}

/// CRS -> pixel coordinates, for references computed on exactly the polygon that was covered.
std::vector<Point> pixel_ring(Grid const& g, Ring const& geo_ring) {
  auto const& t = g.geotransform;
  std::vector<Point> r;
  for (Point const& p : geo_ring) r.push_back({(p.x - t[0]) / t[1], (p.y - t[3]) / t[5]});
  return r;
}

Ring geo_ring(Grid const& g, std::vector<Point> const& pixel_ring) {
  Ring r;
  for (Point const& p : pixel_ring) r.push_back(geo(g, p.x, p.y));
  return r;
}

std::vector<Point> rect(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }

std::vector<Point> reversed(std::vector<Point> r) {
  std::reverse(r.begin(), r.end());
  return r;
}

/// Checks the structural contract and returns the dense fraction raster of the window.
std::vector<double> dense(ZoneCoverage const& cov, TileWindow const& win) {
  std::vector<double> out(win.pixel_count(), 0.0);
  std::vector<int> hits(win.pixel_count(), 0);
  auto at = [&](std::int32_t r, std::int32_t c) -> std::size_t {
    EXPECT_TRUE(r >= 0 && r < win.height && c >= 0 && c < win.width) << "pixel " << c << "," << r << " out of window";
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(win.width) + static_cast<std::size_t>(c);
  };
  for (std::size_t i = 0; i < cov.spans.size(); ++i) {
    auto const& s = cov.spans[i];
    EXPECT_LT(s.col_begin, s.col_end);
    if (i > 0) {
      auto const& p = cov.spans[i - 1];
      EXPECT_TRUE(p.row < s.row || (p.row == s.row && p.col_end < s.col_begin)) << "spans unsorted or not maximal";
    }
    for (std::int32_t c = s.col_begin; c < s.col_end; ++c) {
      std::size_t const k = at(s.row, c);
      if (k >= out.size()) continue;
      out[k] = 1.0;
      ++hits[k];
    }
  }
  for (std::size_t i = 0; i < cov.edges.size(); ++i) {
    auto const& e = cov.edges[i];
    EXPECT_GT(e.fraction, 0.0);
    EXPECT_LT(e.fraction, 1.0);
    if (i > 0) {
      auto const& p = cov.edges[i - 1];
      EXPECT_TRUE(p.row < e.row || (p.row == e.row && p.col < e.col)) << "edges unsorted";
    }
    std::size_t const k = at(e.row, e.col);
    if (k >= out.size()) continue;
    out[k] = e.fraction;
    ++hits[k];
  }
  for (int const h : hits) EXPECT_LE(h, 1) << "a pixel listed twice";
  return out;
}

double overlap(double a0, double a1, double c) { return std::max(0.0, std::min(a1, c + 1.0) - std::max(a0, c)); }

/// Shoelace area of a ring in pixel units.
double ring_area(std::vector<Point> const& r) {
  double s = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    auto const& a = r[i];
    auto const& b = r[(i + 1) % r.size()];
    s += a.x * b.y - b.x * a.y;
  }
  return 0.5 * s;
}

/// Sutherland-Hodgman clip of a (possibly concave) ring against an axis-aligned square; the
/// area of the result is exact even where the clipped ring has zero-width bridges.
double clipped_area(std::vector<Point> poly, double x0, double y0, double x1, double y1) {
  auto clip = [&](auto inside, auto cut) {
    std::vector<Point> out;
    for (std::size_t i = 0; i < poly.size(); ++i) {
      Point const a = poly[i];
      Point const b = poly[(i + 1) % poly.size()];
      bool const ia = inside(a), ib = inside(b);
      if (ia) out.push_back(a);
      if (ia != ib) out.push_back(cut(a, b));
    }
    poly = std::move(out);
  };
  auto at_x = [](Point a, Point b, double x) { return Point{x, a.y + (x - a.x) * (b.y - a.y) / (b.x - a.x)}; };
  auto at_y = [](Point a, Point b, double y) { return Point{a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y), y}; };
  clip([&](Point p) { return p.x >= x0; }, [&](Point a, Point b) { return at_x(a, b, x0); });
  if (poly.empty()) return 0;
  clip([&](Point p) { return p.x <= x1; }, [&](Point a, Point b) { return at_x(a, b, x1); });
  if (poly.empty()) return 0;
  clip([&](Point p) { return p.y >= y0; }, [&](Point a, Point b) { return at_y(a, b, y0); });
  if (poly.empty()) return 0;
  clip([&](Point p) { return p.y <= y1; }, [&](Point a, Point b) { return at_y(a, b, y1); });
  if (poly.size() < 3) return 0;
  return std::abs(ring_area(poly));
}

/// Even-odd crossing test (W. R. Franklin's pnpoly) over all rings, in CRS coordinates.
bool inside(Polygon const& p, Point q) {
  bool in = false;
  auto ring = [&](Ring const& r) {
    for (std::size_t i = 0, j = r.size() - 1; i < r.size(); j = i++) {
      if ((r[i].y > q.y) != (r[j].y > q.y) && q.x < (r[j].x - r[i].x) * (q.y - r[i].y) / (r[j].y - r[i].y) + r[i].x)
        in = !in;
    }
  };
  ring(p.outer);
  for (auto const& h : p.holes) ring(h);
  return in;
}

/// A star-shaped (concave unless rmin == rmax) simple ring around (cx, cy), in pixel coordinates.
/// One random angle per sector of 2 pi / n keeps every gap under 2 * 2 pi / n, so for n >= 5 the
/// ring never folds over itself, and its edges stay farther than rmin * cos(2 pi / n) from the centre.
std::vector<Point> star(std::mt19937_64& rng, int n, double cx, double cy, double rmin, double rmax) {
  std::uniform_real_distribution<double> frac(0.0, 1.0);
  std::uniform_real_distribution<double> rad(rmin, rmax);
  std::vector<double> a(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) a[static_cast<std::size_t>(i)] = 2.0 * std::numbers::pi * (i + frac(rng)) / n;
  std::vector<Point> r;
  for (double const t : a) {
    double const rr = rad(rng);
    r.push_back({cx + rr * std::cos(t), cy + rr * std::sin(t)});
  }
  return r;
}

// ---- closed forms --------------------------------------------------------------------------

TEST(Coverage, RectanglesOffsetByFractionsOfAPixel) {
  // Non-square pixels, north-up: 0.5 x 0.25 CRS units.
  Grid const g = make_grid(12, 10, {1000.0, 0.5, 0.0, 2000.0, 0.0, -0.25});
  struct Case {
    double x0, y0, x1, y1;
  };
  for (Case const k : {Case{1.25, 2.3, 4.6, 5.75}, Case{0.1, 0.9, 0.7, 8.2}, Case{2.0, 3.0, 7.0, 5.0},
                       Case{-3.3, -1.4, 15.2, 4.5}, Case{10.05, 9.01, 11.95, 9.99}}) {
    for (bool const rev : {false, true}) {
      auto pr = rect(k.x0, k.y0, k.x1, k.y1);
      if (rev) pr = reversed(pr);
      Polygon const poly{geo_ring(g, pr), {}};
      auto const cov = reclaim::cover(poly, g, whole(g), CoverageMode::exact);
      auto const d = dense(cov, whole(g));
      for (int r = 0; r < 10; ++r)
        for (int c = 0; c < 12; ++c)
          ASSERT_NEAR(d[static_cast<std::size_t>(r * 12 + c)], overlap(k.x0, k.x1, c) * overlap(k.y0, k.y1, r), 1e-9)
              << "rect " << k.x0 << "," << k.y0 << " pixel " << c << "," << r << " reversed " << rev;
    }
  }
  // Aligned to pixel edges: spans only, one per row.
  Polygon const aligned{geo_ring(g, rect(2, 3, 7, 5)), {}};
  auto const cov = reclaim::cover(aligned, g, whole(g), CoverageMode::exact);
  EXPECT_TRUE(cov.edges.empty());
  ASSERT_EQ(cov.spans.size(), 2u);
  EXPECT_EQ(cov.spans[0].row, 3);
  EXPECT_EQ(cov.spans[0].col_begin, 2);
  EXPECT_EQ(cov.spans[0].col_end, 7);
  EXPECT_EQ(cov.spans[1].row, 4);
}

/// Area of {x, y >= 0, x/a + y/b <= 1} within [0, X] x [0, Y] (inclusion-exclusion of similar triangles).
double tri_corner_area(double a, double b, double X, double Y) {
  X = std::clamp(X, 0.0, a);
  Y = std::clamp(Y, 0.0, b);
  double const t = std::max(0.0, 1.0 - X / a - Y / b);
  return a * b / 2 - (a - X) * (a - X) * b / (2 * a) - (b - Y) * (b - Y) * a / (2 * b) + a * b * t * t / 2;
}

TEST(Coverage, RightTriangleClosedForm) {
  Grid const g = make_grid(16, 14, {500.0, 2.0, 0.0, -300.0, 0.0, -2.0});
  double const ox = 1.3, oy = 0.7, a = 11.45, b = 9.8;  // right angle at (ox, oy), legs along +x and +y
  Polygon const poly{geo_ring(g, {{ox, oy}, {ox + a, oy}, {ox, oy + b}}), {}};
  auto const d = dense(reclaim::cover(poly, g, whole(g), CoverageMode::exact), whole(g));
  double sum = 0;
  for (int r = 0; r < 14; ++r)
    for (int c = 0; c < 16; ++c) {
      double const X0 = c - ox, X1 = c + 1 - ox, Y0 = r - oy, Y1 = r + 1 - oy;
      double const want = tri_corner_area(a, b, X1, Y1) - tri_corner_area(a, b, X0, Y1) -
                          tri_corner_area(a, b, X1, Y0) + tri_corner_area(a, b, X0, Y0);
      ASSERT_NEAR(d[static_cast<std::size_t>(r * 16 + c)], want, 1e-9) << "pixel " << c << "," << r;
      sum += d[static_cast<std::size_t>(r * 16 + c)];
    }
  EXPECT_NEAR(sum, a * b / 2, 1e-9);
}

TEST(Coverage, PolygonWithHole) {
  Grid const g = make_grid(20, 20, {0.0, 1.0, 0.0, 20.0, 0.0, -1.0});
  // The hole is given in the same orientation as the outer ring: orientation is normalised.
  for (bool const same_orientation : {true, false}) {
    auto hole = rect(5.4, 6.2, 12.7, 11.5);
    if (!same_orientation) hole = reversed(hole);
    Polygon const poly{geo_ring(g, rect(1.5, 2.25, 17.3, 18.6)), {geo_ring(g, hole)}};
    auto const d = dense(reclaim::cover(poly, g, whole(g), CoverageMode::exact), whole(g));
    double sum = 0;
    for (int r = 0; r < 20; ++r)
      for (int c = 0; c < 20; ++c) {
        double const want =
            overlap(1.5, 17.3, c) * overlap(2.25, 18.6, r) - overlap(5.4, 12.7, c) * overlap(6.2, 11.5, r);
        ASSERT_NEAR(d[static_cast<std::size_t>(r * 20 + c)], want, 1e-9) << "pixel " << c << "," << r;
        sum += d[static_cast<std::size_t>(r * 20 + c)];
      }
    EXPECT_NEAR(sum, (17.3 - 1.5) * (18.6 - 2.25) - (12.7 - 5.4) * (11.5 - 6.2), 1e-9);
  }
}

TEST(Coverage, ZoneSmallerThanAPixel) {
  Grid const g = make_grid(8, 8, {100.0, 10.0, 0.0, 200.0, 0.0, -10.0});
  // A triangle inside pixel (3, 5): one edge pixel, fraction = its area.
  Polygon const tri{geo_ring(g, {{3.1, 5.2}, {3.7, 5.3}, {3.4, 5.9}}), {}};
  auto const cov = reclaim::cover(tri, g, whole(g), CoverageMode::exact);
  EXPECT_TRUE(cov.spans.empty());
  ASSERT_EQ(cov.edges.size(), 1u);
  EXPECT_EQ(cov.edges[0].col, 3);
  EXPECT_EQ(cov.edges[0].row, 5);
  double const area = 0.5 * std::abs((3.7 - 3.1) * (5.9 - 5.2) - (3.4 - 3.1) * (5.3 - 5.2));
  EXPECT_NEAR(cov.edges[0].fraction, area, 1e-9);
  // center mode keeps the pixel exactly when its centre (3.5, 5.5) is inside the triangle.
  EXPECT_EQ(inside(tri, geo(g, 3.5, 5.5)), !reclaim::cover(tri, g, whole(g), CoverageMode::center).empty());
  auto const at = reclaim::cover(tri, g, whole(g), CoverageMode::all_touched);
  ASSERT_EQ(at.spans.size(), 1u);
  EXPECT_EQ(at.spans[0].col_begin, 3);
  EXPECT_EQ(at.spans[0].col_end, 4);

  // A small square over the corner shared by four pixels: four edge pixels.
  Polygon const sq{geo_ring(g, rect(1.8, 3.9, 2.15, 4.3)), {}};
  auto const c4 = reclaim::cover(sq, g, whole(g), CoverageMode::exact);
  EXPECT_TRUE(c4.spans.empty());
  ASSERT_EQ(c4.edges.size(), 4u);
  auto const d = dense(c4, whole(g));
  EXPECT_NEAR(d[3 * 8 + 1], 0.2 * 0.1, 1e-9);
  EXPECT_NEAR(d[3 * 8 + 2], 0.15 * 0.1, 1e-9);
  EXPECT_NEAR(d[4 * 8 + 1], 0.2 * 0.3, 1e-9);
  EXPECT_NEAR(d[4 * 8 + 2], 0.15 * 0.3, 1e-9);
  // No pixel centre inside: center mode gives nothing.
  EXPECT_TRUE(reclaim::cover(sq, g, whole(g), CoverageMode::center).empty());
}

// ---- random polygons against independent references ------------------------------------------

struct RandomZone {
  std::vector<Point> outer;            // pixel coordinates
  std::vector<std::vector<Point>> holes;
};

RandomZone random_zone(std::mt19937_64& rng, int kind, double cx, double cy, double r) {
  RandomZone z;
  if (kind == 0) {
    z.outer = star(rng, 24, cx, cy, r, r);  // convex: points on a circle
  } else {
    z.outer = star(rng, 40, cx, cy, 0.45 * r, r);  // concave
    if (kind == 2) z.holes.push_back(star(rng, 9, cx, cy, 0.1 * r, 0.35 * r));
  }
  return z;
}

Polygon to_polygon(Grid const& g, RandomZone const& z) {
  Polygon p{geo_ring(g, z.outer), {}};
  for (auto const& h : z.holes) p.holes.push_back(geo_ring(g, h));
  return p;
}

TEST(Coverage, RandomPolygonsMatchPerPixelClipping) {
  Grid const g = make_grid(40, 30, {350000.0, 10.0, 0.0, 7400000.0, 0.0, -10.0});
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int iter = 0; iter < 30; ++iter) {
    int const kind = iter % 3;
    Polygon const poly = to_polygon(g, random_zone(rng, kind, 8 + 24 * u(rng), 6 + 18 * u(rng), 4 + 12 * u(rng)));
    // The reference clips the polygon as it reached reclaim, after the trip through CRS units
    // (near 7.4e6 m that moves vertices by ~1e-10 pixel, i.e. areas by ~1e-9).
    RandomZone z{pixel_ring(g, poly.outer), {}};
    for (auto const& h : poly.holes) z.holes.push_back(pixel_ring(g, h));
    auto const d = dense(reclaim::cover(poly, g, whole(g), CoverageMode::exact), whole(g));
    double sum = 0, ref_sum = 0;
    for (int r = 0; r < 30; ++r)
      for (int c = 0; c < 40; ++c) {
        double want = clipped_area(z.outer, c, r, c + 1, r + 1);
        for (auto const& h : z.holes) want -= clipped_area(h, c, r, c + 1, r + 1);
        ASSERT_NEAR(d[static_cast<std::size_t>(r * 40 + c)], want, 1e-9) << "iter " << iter << " pixel " << c << "," << r;
        sum += d[static_cast<std::size_t>(r * 40 + c)];
        ref_sum += want;
      }
    // The polygon may stick out of the grid, so compare the total with the in-grid reference,
    // and with the shoelace area when it lies inside.
    EXPECT_NEAR(sum, ref_sum, 1e-9);
    bool in_grid = true;
    for (auto const& p : z.outer) in_grid = in_grid && p.x >= 0 && p.x <= 40 && p.y >= 0 && p.y <= 30;
    if (in_grid) {
      double area = std::abs(ring_area(z.outer));
      for (auto const& h : z.holes) area -= std::abs(ring_area(h));
      EXPECT_NEAR(sum, area, 1e-9) << "iter " << iter;
    }
  }
}

TEST(Coverage, VerticesOnPixelCornersAndTileEdges) {
  // A diamond and a hole whose vertices sit on pixel corners, cut into tiles through those vertices.
  Grid const g = make_grid(10, 10, {0.0, 1.0, 0.0, 10.0, 0.0, -1.0});
  std::vector<Point> const outer{{5, 1}, {9, 5}, {5, 9}, {1, 5}};
  std::vector<Point> const hole{{4, 4}, {6, 4}, {6, 6}, {5, 5.5}, {4, 6}};
  Polygon const poly{geo_ring(g, outer), {geo_ring(g, hole)}};
  auto const d = dense(reclaim::cover(poly, g, whole(g), CoverageMode::exact), whole(g));
  for (int r = 0; r < 10; ++r)
    for (int c = 0; c < 10; ++c) {
      double const want = clipped_area(outer, c, r, c + 1, r + 1) - clipped_area(hole, c, r, c + 1, r + 1);
      ASSERT_NEAR(d[static_cast<std::size_t>(r * 10 + c)], want, 1e-12) << "pixel " << c << "," << r;
      TileWindow const t{0, c < 5 ? 0 : 5, r < 5 ? 0 : 5, 5, 5};
      auto const dt = dense(reclaim::cover(poly, g, t, CoverageMode::exact), t);
      ASSERT_NEAR(dt[static_cast<std::size_t>((r - t.y0) * 5 + (c - t.x0))], want, 1e-12) << "tiled " << c << "," << r;
    }
}

TEST(Coverage, SumOfFractionsIsAreaForRandomPolygons) {
  Grid const g = make_grid(200, 150, {0.0, 0.3, 0.0, 0.0, 0.0, -0.3});
  std::mt19937_64 rng(777);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int iter = 0; iter < 60; ++iter) {
    auto const z = random_zone(rng, iter % 3, 60 + 80 * u(rng), 60 + 30 * u(rng), 5 + 50 * u(rng));
    auto const cov = reclaim::cover(to_polygon(g, z), g, whole(g), CoverageMode::exact);
    double sum = 0;
    for (auto const& s : cov.spans) sum += s.col_end - s.col_begin;
    for (auto const& e : cov.edges) sum += e.fraction;
    double area = std::abs(ring_area(z.outer));
    for (auto const& h : z.holes) area -= std::abs(ring_area(h));
    EXPECT_NEAR(sum, area, 1e-9) << "iter " << iter;
  }
}

TEST(Coverage, CenterMatchesPointInPolygonAndAllTouchedContainsIt) {
  Grid const g = make_grid(60, 45, {-20.0, 0.7, 0.0, 33.0, 0.0, -0.55});
  std::mt19937_64 rng(4242);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int iter = 0; iter < 30; ++iter) {
    auto const z = random_zone(rng, iter % 3, 10 + 40 * u(rng), 8 + 30 * u(rng), 3 + 20 * u(rng));
    Polygon const poly = to_polygon(g, z);
    auto const center = reclaim::cover(poly, g, whole(g), CoverageMode::center);
    auto const touched = reclaim::cover(poly, g, whole(g), CoverageMode::all_touched);
    auto const exact = reclaim::cover(poly, g, whole(g), CoverageMode::exact);
    EXPECT_TRUE(center.edges.empty());
    EXPECT_TRUE(touched.edges.empty());
    auto const dc = dense(center, whole(g));
    auto const dt = dense(touched, whole(g));
    auto const de = dense(exact, whole(g));
    for (int r = 0; r < 45; ++r)
      for (int c = 0; c < 60; ++c) {
        auto const k = static_cast<std::size_t>(r * 60 + c);
        bool const ref = inside(poly, geo(g, c + 0.5, r + 0.5));
        ASSERT_EQ(dc[k] == 1.0, ref) << "iter " << iter << " pixel " << c << "," << r;
        if (ref) {
          ASSERT_EQ(dt[k], 1.0) << "all-touched misses a centre pixel " << c << "," << r;
        }
        // all-touched is exactly the pixels with some area inside.
        ASSERT_EQ(dt[k] == 1.0, de[k] > 0.0) << "iter " << iter << " pixel " << c << "," << r;
      }
  }
}

TEST(Coverage, AdjacentZonesPartitionPixels) {
  // A rectangle cut by a slanted line into two zones: exact fractions add up to the
  // rectangle's, and every centre-inside pixel belongs to exactly one zone.
  Grid const g = make_grid(30, 30, {0.0, 1.0, 0.0, 0.0, 0.0, 1.0});  // south-up (positive pixel height) too
  Point const a{2.3, 1.7}, b{27.6, 1.7}, c{27.6, 28.1}, d{2.3, 28.1};
  Point const m1{2.3, 9.37}, m2{27.6, 21.0};
  Polygon const top{geo_ring(g, {a, b, m2, m1}), {}};
  Polygon const bottom{geo_ring(g, {m1, m2, c, d}), {}};
  Polygon const all{geo_ring(g, {a, b, c, d}), {}};
  auto const W = whole(g);
  auto const t = dense(reclaim::cover(top, g, W, CoverageMode::exact), W);
  auto const bo = dense(reclaim::cover(bottom, g, W, CoverageMode::exact), W);
  auto const al = dense(reclaim::cover(all, g, W, CoverageMode::exact), W);
  auto const tc = dense(reclaim::cover(top, g, W, CoverageMode::center), W);
  auto const bc = dense(reclaim::cover(bottom, g, W, CoverageMode::center), W);
  auto const ac = dense(reclaim::cover(all, g, W, CoverageMode::center), W);
  for (std::size_t k = 0; k < al.size(); ++k) {
    ASSERT_NEAR(t[k] + bo[k], al[k], 1e-12) << k;
    ASSERT_EQ(tc[k] + bc[k], ac[k]) << k;
  }
}

TEST(Coverage, MultipolygonIsTheSumOfItsParts) {
  Grid const g = make_grid(25, 25, {0.0, 1.0, 0.0, 25.0, 0.0, -1.0});
  std::vector<Polygon> const parts{{geo_ring(g, rect(1.2, 1.3, 8.8, 9.1)), {}},
                                   {geo_ring(g, {{12.1, 14.2}, {23.5, 15.0}, {17.0, 24.4}}), {}}};
  auto const W = whole(g);
  auto const both = dense(reclaim::cover(std::span<Polygon const>(parts), g, W, CoverageMode::exact), W);
  auto const p0 = dense(reclaim::cover(parts[0], g, W, CoverageMode::exact), W);
  auto const p1 = dense(reclaim::cover(parts[1], g, W, CoverageMode::exact), W);
  for (std::size_t k = 0; k < both.size(); ++k) ASSERT_NEAR(both[k], p0[k] + p1[k], 1e-12);
}

TEST(Coverage, TileByTileEqualsWholeGrid) {
  // A zone crossing many ragged tiles and sticking out of the grid.
  Grid const g = make_grid(300, 200, {600000.0, 20.0, 0.0, 4500000.0, 0.0, -20.0});
  std::mt19937_64 rng(99);
  RandomZone z;
  z.outer = star(rng, 300, 150.3, 95.7, 40.0, 130.0);
  z.holes.push_back(star(rng, 30, 151.0, 97.0, 5.0, 30.0));
  Polygon const poly = to_polygon(g, z);
  for (auto const mode : {CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched}) {
    auto const full = dense(reclaim::cover(poly, g, whole(g), mode), whole(g));
    std::vector<double> tiled(full.size(), -1.0);
    int tiles_hit = 0;
    for (std::int64_t y0 = 0; y0 < 200; y0 += 23)
      for (std::int64_t x0 = 0; x0 < 300; x0 += 37) {
        TileWindow const w{0, x0, y0, static_cast<std::int32_t>(std::min<std::int64_t>(37, 300 - x0)),
                           static_cast<std::int32_t>(std::min<std::int64_t>(23, 200 - y0))};
        auto const cov = reclaim::cover(poly, g, w, mode);
        if (!cov.empty()) ++tiles_hit;
        auto const d = dense(cov, w);
        for (int r = 0; r < w.height; ++r)
          for (int c = 0; c < w.width; ++c) {
            auto const k = static_cast<std::size_t>((y0 + r) * 300 + x0 + c);
            ASSERT_EQ(tiled[k], -1.0) << "pixel in two tiles";
            tiled[k] = d[static_cast<std::size_t>(r * w.width + c)];
          }
      }
    EXPECT_GT(tiles_hit, 40);
    for (std::size_t k = 0; k < full.size(); ++k) ASSERT_NEAR(tiled[k], full[k], 1e-12) << "pixel " << k;
  }
}

TEST(Coverage, TenThousandEdgesOnALargeGrid) {
  Grid const g = make_grid(2000, 2000, {0.0, 1.0, 0.0, 0.0, 0.0, -1.0});
  std::mt19937_64 rng(2024);
  // A wavy outline with jitter: 10 000 edges, a boundary of some 10 000 pixels.
  std::uniform_real_distribution<double> jitter(-2.0, 2.0);
  std::vector<Point> outer;
  for (int i = 0; i < 10000; ++i) {
    double const t = 2.0 * std::numbers::pi * i / 10000.0;
    double const rr = 700.0 + 200.0 * std::sin(7.0 * t) + jitter(rng);
    outer.push_back({1000.2 + rr * std::cos(t), 999.6 + rr * std::sin(t)});
  }
  Polygon const poly{geo_ring(g, outer), {}};
  auto const cov = reclaim::cover(poly, g, whole(g), CoverageMode::exact);
  double sum = 0;
  for (auto const& s : cov.spans) sum += s.col_end - s.col_begin;
  for (auto const& e : cov.edges) sum += e.fraction;
  double const area = std::abs(ring_area(outer));
  EXPECT_NEAR(sum, area, 1e-9 * area);
  EXPECT_GT(cov.edges.size(), 10000u);
  std::cout << "10 000 edges: " << cov.spans.size() << " spans, " << cov.edges.size() << " edge pixels for "
            << area << " pixels of area\n";
  // Compact: far fewer records than covered pixels.
  EXPECT_LT(cov.spans.size() + cov.edges.size(), static_cast<std::size_t>(area / 10));
}

// ---- edge cases and errors ---------------------------------------------------------------------

TEST(Coverage, EmptyCases) {
  Grid const g = make_grid(10, 10, {0.0, 1.0, 0.0, 10.0, 0.0, -1.0});
  Polygon const outside{geo_ring(g, rect(12, 1, 15, 4)), {}};
  Polygon const above{geo_ring(g, rect(1, -5, 4, -1)), {}};
  Polygon const degenerate{geo_ring(g, {{1, 1}, {5, 5}}), {}};
  Polygon const flat{geo_ring(g, {{1, 1}, {5, 5}, {3, 3}}), {}};
  Polygon const inside_poly{geo_ring(g, rect(1, 1, 4, 4)), {}};
  for (auto const mode : {CoverageMode::exact, CoverageMode::center, CoverageMode::all_touched}) {
    EXPECT_TRUE(reclaim::cover(outside, g, whole(g), mode).empty());
    EXPECT_TRUE(reclaim::cover(above, g, whole(g), mode).empty());
    EXPECT_TRUE(reclaim::cover(degenerate, g, whole(g), mode).empty());
    EXPECT_TRUE(reclaim::cover(flat, g, whole(g), mode).empty());
    EXPECT_TRUE(reclaim::cover(inside_poly, g, TileWindow{0, 0, 0, 0, 0}, mode).empty());
  }
  // A zone covering the whole window from outside it: one full span per row.
  Polygon const big{geo_ring(g, rect(-5, -5, 15, 15)), {}};
  auto const cov = reclaim::cover(big, g, TileWindow{0, 3, 2, 4, 5}, CoverageMode::exact);
  EXPECT_TRUE(cov.edges.empty());
  ASSERT_EQ(cov.spans.size(), 5u);
  for (auto const& s : cov.spans) {
    EXPECT_EQ(s.col_begin, 0);
    EXPECT_EQ(s.col_end, 4);
  }
}

TEST(Coverage, RejectsRotatedGridsAndBadVertices) {
  Polygon const p{{{0.5, 0.5}, {3.0, 0.5}, {3.0, -3.0}}, {}};
  TileWindow const w{0, 0, 0, 4, 4};
  EXPECT_THROW((void)reclaim::cover(p, make_grid(4, 4, {0, 1, 0.1, 0, 0, -1}), w, CoverageMode::exact),
               reclaim::input_error);
  EXPECT_THROW((void)reclaim::cover(p, make_grid(4, 4, {0, 1, 0, 0, 0.2, -1}), w, CoverageMode::center),
               reclaim::input_error);
  EXPECT_THROW((void)reclaim::cover(p, make_grid(4, 4, {0, 0, 0, 0, 0, -1}), w, CoverageMode::exact),
               reclaim::input_error);
  Polygon const nan_vertex{{{0.5, 0.5}, {std::nan(""), 0.5}, {3.0, -3.0}}, {}};
  EXPECT_THROW((void)reclaim::cover(nan_vertex, make_grid(4, 4, {0, 1, 0, 0, 0, -1}), w, CoverageMode::exact),
               reclaim::input_error);
}

TEST(Coverage, ParseMode) {
  EXPECT_EQ(reclaim::parse_coverage_mode("center"), CoverageMode::center);
  EXPECT_EQ(reclaim::parse_coverage_mode("all-touched"), CoverageMode::all_touched);
  EXPECT_EQ(reclaim::parse_coverage_mode("all_touched"), CoverageMode::all_touched);
  EXPECT_EQ(reclaim::parse_coverage_mode("exact"), CoverageMode::exact);
  EXPECT_FALSE(reclaim::parse_coverage_mode("Exact").has_value());
  EXPECT_FALSE(reclaim::parse_coverage_mode("").has_value());
}

}  // namespace
