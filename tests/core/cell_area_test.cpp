// Pixel areas: projected from hand-worked determinants; geographic against an independent
// numerical integration of the ellipsoidal area element dA = M(φ) N(φ) cosφ dφ dλ (composite
// Simpson, float64), not against the closed form the code uses.
#include "reclaim/cell_area.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "reclaim/error.hpp"

namespace {

using reclaim::Ellipsoid;
using reclaim::Grid;

constexpr double k_pi = std::numbers::pi;
constexpr double k_deg = k_pi / 180.0;

Grid geographic_grid(double lon0, double lat0, double dlon, double dlat, std::int64_t width, std::int64_t height) {
  Grid g;
  g.width = width;
  g.height = height;
  g.geotransform = {lon0, dlon, 0.0, lat0, 0.0, -dlat};
  return g;
}

/// Area in m² of the cell [lat1, lat2] x dlon (degrees) by Simpson's rule on M N cosφ.
double simpson_area_m2(double lat1_deg, double lat2_deg, double dlon_deg, Ellipsoid ell = {}, int n = 2000) {
  double const f = ell.inv_f == 0.0 ? 0.0 : 1.0 / ell.inv_f;
  double const e2 = f * (2.0 - f);
  auto integrand = [&](double phi) {
    double const w = 1.0 - e2 * std::sin(phi) * std::sin(phi);
    double const m = ell.a * (1.0 - e2) / (w * std::sqrt(w));  // meridional radius of curvature
    double const nn = ell.a / std::sqrt(w);                   // prime-vertical radius of curvature
    return m * nn * std::cos(phi);
  };
  double const p1 = lat1_deg * k_deg;
  double const p2 = lat2_deg * k_deg;
  double const h = (p2 - p1) / n;
  double sum = integrand(p1) + integrand(p2);
  for (int i = 1; i < n; ++i) sum += (i % 2 == 1 ? 4.0 : 2.0) * integrand(p1 + i * h);
  return std::abs(sum * h / 3.0) * dlon_deg * k_deg;
}

void expect_rel(double actual, double expected, double rel) {
  EXPECT_NEAR(actual, expected, rel * std::abs(expected)) << "relative error " << (actual - expected) / expected;
}

// ---- projected ---------------------------------------------------------------------------------

TEST(CellAreaProjected, TenMetrePixelIsOneHundredthHectare) {
  Grid g;
  g.geotransform = {500000.0, 10.0, 0.0, 3300000.0, 0.0, -10.0};
  EXPECT_DOUBLE_EQ(reclaim::projected_cell_area_ha(g), 0.01);
  g.geotransform = {0.0, 30.0, 0.0, 0.0, 0.0, -30.0};  // Landsat: 900 m² = 0.09 ha
  EXPECT_DOUBLE_EQ(reclaim::projected_cell_area_ha(g), 0.09);
}

TEST(CellAreaProjected, RotatedAndShearedUseAbsoluteDeterminant) {
  Grid g;
  // A 10 m pixel rotated by atan(3/4): columns (8, -6), rows (6, 8); det = 8*8 - 6*(-6) = 100.
  g.geotransform = {0.0, 8.0, 6.0, 0.0, -6.0, 8.0};
  EXPECT_DOUBLE_EQ(reclaim::projected_cell_area_ha(g), 0.01);
  // Sheared: a parallelogram with base 10 and height 10, det = 10*(-10) - 5*0 = -100.
  g.geotransform = {0.0, 10.0, 5.0, 0.0, 0.0, -10.0};
  EXPECT_DOUBLE_EQ(reclaim::projected_cell_area_ha(g), 0.01);
  // Shear in both terms: det = 10*(-20) - 4*3 = -212 m².
  g.geotransform = {0.0, 10.0, 4.0, 0.0, 3.0, -20.0};
  EXPECT_DOUBLE_EQ(reclaim::projected_cell_area_ha(g), 0.0212);
}

TEST(CellAreaProjected, LinearUnitConvertsFeet) {
  Grid g;
  g.geotransform = {0.0, 10.0, 0.0, 0.0, 0.0, -10.0};
  // 100 ft² * 0.3048² = 9.290304 m².
  expect_rel(reclaim::projected_cell_area_ha(g, 0.3048), 9.290304e-4, 1e-15);
  EXPECT_THROW((void)reclaim::projected_cell_area_ha(g, 0.0), reclaim::input_error);
  EXPECT_THROW((void)reclaim::projected_cell_area_ha(g, -1.0), reclaim::input_error);
  EXPECT_THROW((void)reclaim::projected_cell_area_ha(g, std::nan("")), reclaim::input_error);
}

// ---- geographic --------------------------------------------------------------------------------

TEST(CellAreaGeographic, WholeGlobeIsAuthalicSphere) {
  Grid const g = geographic_grid(-180.0, 90.0, 1.0, 1.0, 360, 180);
  auto const rows = reclaim::row_areas_ha(g, 0, 180, true);
  ASSERT_EQ(rows.size(), 180u);
  double total_m2 = 0.0;
  for (double a : rows) total_m2 += 360.0 * a * 1e4;
  // WGS84 surface area 4π R_authalic², R_authalic = 6371007.1809 m (published value).
  expect_rel(total_m2, 5.10065621724e14, 1e-9);
  // The same from the textbook closed form S = 2πa²(1 + (1-e²)/(2e) ln((1+e)/(1-e))).
  double const f = 1.0 / 298.257223563;
  double const e = std::sqrt(f * (2.0 - f));
  double const a = 6378137.0;
  double const s = 2.0 * k_pi * a * a * (1.0 + (1.0 - e * e) / (2.0 * e) * std::log((1.0 + e) / (1.0 - e)));
  expect_rel(total_m2, s, 1e-12);
}

TEST(CellAreaGeographic, EquatorialDegreeCellMatchesIntegration) {
  Grid const g = geographic_grid(0.0, 1.0, 1.0, 1.0, 1, 1);  // latitudes 1 -> 0
  double const ha = reclaim::geographic_cell_area_ha(g, 0);
  expect_rel(ha, simpson_area_m2(0.0, 1.0, 1.0) / 1e4, 1e-9);
  // Rough hand check: 111.32 km of longitude * 110.57 km of latitude ≈ 12308 km².
  EXPECT_NEAR(ha, 1.2308e6, 0.0002e6);
}

TEST(CellAreaGeographic, NorthSouthSymmetricAndSouthUp) {
  Grid const north = geographic_grid(10.0, 41.0, 1.0, 1.0, 1, 1);
  Grid const south = geographic_grid(10.0, -40.0, 1.0, 1.0, 1, 1);
  double const an = reclaim::geographic_cell_area_ha(north, 0);
  double const as = reclaim::geographic_cell_area_ha(south, 0);
  expect_rel(as, an, 1e-14);
  expect_rel(an, simpson_area_m2(40.0, 41.0, 1.0) / 1e4, 1e-9);
  // A south-up grid (positive pixel height) over the same band gives the same area.
  Grid south_up = north;
  south_up.geotransform = {10.0, 1.0, 0.0, 40.0, 0.0, 1.0};
  expect_rel(reclaim::geographic_cell_area_ha(south_up, 0), an, 1e-14);
  // Cells shrink poleward.
  Grid const higher = geographic_grid(10.0, 61.0, 1.0, 1.0, 1, 1);
  EXPECT_LT(reclaim::geographic_cell_area_ha(higher, 0), an);
}

TEST(CellAreaGeographic, PolarCellMatchesIntegration) {
  Grid const g = geographic_grid(0.0, 90.0, 1.0, 1.0, 360, 1);  // 90 -> 89
  double const ha = reclaim::geographic_cell_area_ha(g, 0);
  expect_rel(ha, simpson_area_m2(89.0, 90.0, 1.0) / 1e4, 1e-9);
  Grid const s = geographic_grid(0.0, -89.0, 1.0, 1.0, 360, 1);  // -89 -> -90
  expect_rel(reclaim::geographic_cell_area_ha(s, 0), ha, 1e-13);
}

TEST(CellAreaGeographic, ChongqingTenMetrePixel) {
  double const dlon = 0.0000965595;
  double const dlat = 0.000096684;
  Grid const g = geographic_grid(106.5, 29.45, dlon, dlat, 1, 1);
  double const ha = reclaim::geographic_cell_area_ha(g, 0);
  expect_rel(ha, simpson_area_m2(29.45 - dlat, 29.45, dlon, {}, 200) / 1e4, 1e-9);
  // Hand check: ~9.36 m of longitude * ~10.7 m of latitude ≈ 100 m².
  EXPECT_NEAR(ha, 0.0100, 0.0002);
}

TEST(CellAreaGeographic, CentimetreCellKeepsPrecision) {
  // 1e-7 degree (about 1 cm): q(φ2) - q(φ1) subtracted directly would lose ~8 digits.
  double const d = 1e-7;
  Grid const g = geographic_grid(0.0, 45.0, d, d, 1, 1);
  expect_rel(reclaim::geographic_cell_area_ha(g, 0), simpson_area_m2(45.0 - d, 45.0, d, {}, 20) / 1e4, 1e-12);
}

TEST(CellAreaGeographic, SphereMatchesSphericalZoneFormula) {
  Ellipsoid const sphere{6371000.0, 0.0};
  Grid const g = geographic_grid(0.0, 30.0, 2.0, 0.5, 1, 10);
  for (std::int64_t r = 0; r < 10; ++r) {
    double const hi = (30.0 - 0.5 * static_cast<double>(r)) * k_deg;
    double const lo = (30.0 - 0.5 * static_cast<double>(r + 1)) * k_deg;
    double const expected_m2 = sphere.a * sphere.a * (2.0 * k_deg) * (std::sin(hi) - std::sin(lo));
    expect_rel(reclaim::geographic_cell_area_ha(g, r, sphere), expected_m2 / 1e4, 1e-12);
  }
}

TEST(CellAreaGeographic, OtherEllipsoidMatchesIntegration) {
  Ellipsoid const krassovsky{6378245.0, 298.3};  // the ellipsoid of Beijing 1954 / Pulkovo 1942
  Grid const g = geographic_grid(100.0, 30.0, 0.25, 0.25, 4, 4);
  expect_rel(reclaim::geographic_cell_area_ha(g, 2, krassovsky), simpson_area_m2(29.25, 29.5, 0.25, krassovsky) / 1e4,
             1e-9);
}

TEST(CellAreaGeographic, AdjacentRowsAdd) {
  Grid const two = geographic_grid(0.0, 52.0, 1.0, 2.0, 1, 1);
  Grid const one = geographic_grid(0.0, 52.0, 1.0, 1.0, 1, 2);
  double const sum = reclaim::geographic_cell_area_ha(one, 0) + reclaim::geographic_cell_area_ha(one, 1);
  expect_rel(reclaim::geographic_cell_area_ha(two, 0), sum, 1e-13);
}

TEST(CellAreaGeographic, RejectsBadInput) {
  Grid rotated = geographic_grid(0.0, 10.0, 1.0, 1.0, 4, 4);
  rotated.geotransform[2] = 0.1;
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(rotated, 0), reclaim::input_error);

  Grid const beyond = geographic_grid(0.0, 95.0, 1.0, 1.0, 4, 10);  // a projected CRS taken for degrees
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(beyond, 0), reclaim::input_error);
  Grid const metres = geographic_grid(500000.0, 3300000.0, 10.0, 10.0, 4, 4);
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(metres, 0), reclaim::input_error);

  Grid const wide = geographic_grid(0.0, 10.0, 400.0, 1.0, 1, 1);
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(wide, 0), reclaim::input_error);

  Grid const ok = geographic_grid(0.0, 10.0, 1.0, 1.0, 1, 1);
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(ok, 0, Ellipsoid{-1.0, 298.0}), reclaim::input_error);
  EXPECT_THROW((void)reclaim::geographic_cell_area_ha(ok, 0, Ellipsoid{6378137.0, 0.5}), reclaim::input_error);
}

TEST(CellAreaGeographic, TinyPoleOvershootIsClamped) {
  // A global grid whose rounded pixel height ends 1e-12 degrees past the south pole.
  double const dlat = 180.0 / 7.0 + 1e-13;
  Grid const g = geographic_grid(-180.0, 90.0, 360.0, dlat, 1, 7);
  double total_m2 = 0.0;
  for (double a : reclaim::row_areas_ha(g, 0, 7, true)) total_m2 += a * 1e4;
  expect_rel(total_m2, 5.10065621724e14, 1e-9);
}

// ---- row_areas_ha ------------------------------------------------------------------------------

TEST(CellAreaRows, WindowRowsMatchPerRowAreas) {
  Grid const g = geographic_grid(100.0, 35.0, 0.01, 0.01, 50, 300);
  reclaim::TileWindow w;
  w.x0 = 10;
  w.y0 = 128;
  w.width = 20;
  w.height = 64;
  auto const rows = reclaim::row_areas_ha(g, w, true);
  ASSERT_EQ(rows.size(), 64u);
  for (std::int64_t i = 0; i < 64; ++i) EXPECT_EQ(rows[i], reclaim::geographic_cell_area_ha(g, w.y0 + i)) << i;
  expect_rel(rows[5], simpson_area_m2(35.0 - 0.01 * 134, 35.0 - 0.01 * 133, 0.01, {}, 200) / 1e4, 1e-9);
  EXPECT_LT(rows.front(), rows.back());  // north-up, northern hemisphere: rows go south, cells grow
}

TEST(CellAreaRows, ProjectedRowsAreConstant) {
  Grid g;
  g.width = 100;
  g.height = 100;
  g.geotransform = {0.0, 20.0, 0.0, 0.0, 0.0, -20.0};
  auto const rows = reclaim::row_areas_ha(g, 90, 10, false);
  ASSERT_EQ(rows.size(), 10u);
  for (double a : rows) EXPECT_DOUBLE_EQ(a, 0.04);
  auto const feet = reclaim::row_areas_ha(g, 0, 1, false, {}, 0.3048);
  expect_rel(feet.at(0), 400.0 * 0.3048 * 0.3048 / 1e4, 1e-15);
  EXPECT_TRUE(reclaim::row_areas_ha(g, 100, 0, false).empty());
}

TEST(CellAreaRows, RowsOutsideGridAreABug) {
  Grid const g = geographic_grid(0.0, 10.0, 1.0, 1.0, 4, 4);
  EXPECT_THROW((void)reclaim::row_areas_ha(g, 2, 3, true), reclaim::logic_error);
  EXPECT_THROW((void)reclaim::row_areas_ha(g, -1, 1, true), reclaim::logic_error);
  EXPECT_THROW((void)reclaim::row_areas_ha(g, 0, -1, false), reclaim::logic_error);
}

}  // namespace
