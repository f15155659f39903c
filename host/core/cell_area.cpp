// Pixel areas in hectares: projected (|det| of the geotransform) and geographic (exact
// ellipsoidal area per row, Snyder 1987 eq. 3-12).
//
// Why the rearranged q difference: for a 10 m pixel the two latitudes differ by ~1e-4 degrees,
// so q(φ2) and q(φ1) agree to ~6 digits and subtracting them would throw away ~6 of float64's
// 16. With s = sinφ, D = 1 - e²s²:
//
//   s2/D2 - s1/D1                 = (s2 - s1)(1 + e² s1 s2) / (D1 D2)
//   atanh(e s2) - atanh(e s1)     = atanh(e (s2 - s1) / (1 - e² s1 s2))
//   s2 - s1                       = 2 cos((φ1 + φ2)/2) sin((φ2 - φ1)/2)
//
// (note (1/(2e)) ln((1+es)/(1-es)) = atanh(es)/e), and every factor is then computed to
// full relative precision.

#include "reclaim/cell_area.hpp"

#include <cmath>
#include <numbers>
#include <sstream>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {

namespace {

constexpr double k_m2_per_ha = 10000.0;
/// Latitude overshoot past a pole that is rounding (a global grid's last row), not an error.
constexpr double k_pole_slack_deg = 1e-9;

std::string describe_geotransform(Grid const& grid) {
  std::ostringstream out;
  out.precision(17);
  auto const& gt = grid.geotransform;
  out << '(' << gt[0] << ", " << gt[1] << ", " << gt[2] << ", " << gt[3] << ", " << gt[4] << ", " << gt[5] << ')';
  return out.str();
}

double checked_latitude_rad(double lat_deg, Grid const& grid) {
  if (!std::isfinite(lat_deg) || std::abs(lat_deg) > 90.0 + k_pole_slack_deg) {
    std::ostringstream out;
    out.precision(17);
    out << "cell area: latitude " << lat_deg << " is outside [-90, 90] (geotransform "
        << describe_geotransform(grid) << "); is the CRS really geographic?";
    throw input_error(out.str());
  }
  double const clamped = std::fmax(-90.0, std::fmin(90.0, lat_deg));
  return clamped * (std::numbers::pi / 180.0);
}

}  // namespace

double projected_cell_area_ha(Grid const& grid, double linear_unit_m) {
  if (!std::isfinite(linear_unit_m) || !(linear_unit_m > 0.0))
    throw input_error("cell area: linear unit must be a positive number of metres, got " +
                      std::to_string(linear_unit_m));
  auto const& gt = grid.geotransform;
  double const det = gt[1] * gt[5] - gt[2] * gt[4];
  if (!std::isfinite(det))
    throw input_error("cell area: non-finite geotransform " + describe_geotransform(grid));
  return std::abs(det) * linear_unit_m * linear_unit_m / k_m2_per_ha;
}

double geographic_cell_area_ha(Grid const& grid, std::int64_t row, Ellipsoid ellipsoid) {
  if (!std::isfinite(ellipsoid.a) || !(ellipsoid.a > 0.0) || !std::isfinite(ellipsoid.inv_f) ||
      ellipsoid.inv_f < 0.0 || (ellipsoid.inv_f > 0.0 && ellipsoid.inv_f <= 1.0))
    throw input_error("cell area: invalid ellipsoid (a = " + std::to_string(ellipsoid.a) +
                      " m, 1/f = " + std::to_string(ellipsoid.inv_f) + ")");
  auto const& gt = grid.geotransform;
  if (gt[2] != 0.0 || gt[4] != 0.0)
    throw input_error("cell area: a rotated geographic grid has no per-row pixel area (geotransform " +
                      describe_geotransform(grid) + ")");
  double const width_deg = std::abs(gt[1]);
  if (!std::isfinite(width_deg) || width_deg > 360.0)
    throw input_error("cell area: pixel width must be at most 360 degrees (geotransform " +
                      describe_geotransform(grid) + ")");

  // Two latitudes computed the same way for neighbouring rows, so adjacent rows share an edge
  // exactly and a column of cells sums to the zone between its outer edges.
  double const phi1 = checked_latitude_rad(gt[3] + static_cast<double>(row) * gt[5], grid);
  double const phi2 = checked_latitude_rad(gt[3] + static_cast<double>(row + 1) * gt[5], grid);

  double const f = ellipsoid.inv_f == 0.0 ? 0.0 : 1.0 / ellipsoid.inv_f;
  double const e2 = f * (2.0 - f);
  double const e = std::sqrt(e2);
  double const b = ellipsoid.a * (1.0 - f);
  double const dlambda = width_deg * (std::numbers::pi / 180.0);

  double const s1 = std::sin(phi1);
  double const s2 = std::sin(phi2);
  double const ds = 2.0 * std::cos(0.5 * (phi1 + phi2)) * std::sin(0.5 * (phi2 - phi1));
  double const d1 = 1.0 - e2 * s1 * s1;
  double const d2 = 1.0 - e2 * s2 * s2;
  double const one_minus = 1.0 - e2 * s1 * s2;
  // atanh(e x)/e -> x as e -> 0: the sphere needs its own branch, not a 0/0.
  double const log_term = e == 0.0 ? ds : std::atanh(e * ds / one_minus) / e;
  double const dq = ds * (1.0 + e2 * s1 * s2) / (d1 * d2) + log_term;

  double const area_m2 = 0.5 * b * b * dlambda * std::abs(dq);
  return area_m2 / k_m2_per_ha;
}

std::vector<double> row_areas_ha(Grid const& grid, std::int64_t y0, std::int64_t rows, bool geographic,
                                 Ellipsoid ellipsoid, double linear_unit_m) {
  RECLAIM_EXPECTS(y0 >= 0 && rows >= 0 && rows <= grid.height && y0 <= grid.height - rows,
                  "row_areas_ha: rows " + std::to_string(y0) + " + " + std::to_string(rows) +
                      " outside the grid's " + std::to_string(grid.height) + " rows");
  if (!geographic)
    return std::vector<double>(static_cast<std::size_t>(rows), projected_cell_area_ha(grid, linear_unit_m));
  std::vector<double> areas;
  areas.reserve(static_cast<std::size_t>(rows));
  for (std::int64_t r = y0; r < y0 + rows; ++r) areas.push_back(geographic_cell_area_ha(grid, r, ellipsoid));
  return areas;
}

std::vector<double> row_areas_ha(Grid const& grid, TileWindow const& window, bool geographic, Ellipsoid ellipsoid,
                                 double linear_unit_m) {
  return row_areas_ha(grid, window.y0, window.height, geographic, ellipsoid, linear_unit_m);
}

}  // namespace reclaim
