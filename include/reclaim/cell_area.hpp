#pragma once
/** @file
 * @brief Pixel areas in hectares, for zonal statistics that report areas: constant for a
 * projected CRS (from the geotransform), per row for a geographic CRS (exact area on the
 * ellipsoid of the cell between the row's two latitudes).
 *
 * No GDAL here: the caller reads the CRS (geographic or projected, linear unit, ellipsoid)
 * and passes what it found. All arithmetic is float64.
 */
#include <cstdint>
#include <vector>

#include "reclaim/grid.hpp"

namespace reclaim {

/** @brief An ellipsoid of revolution: semi-major axis in metres and inverse flattening.
 *
 * inv_f == 0 means a sphere of radius a (GDAL's and PROJ's convention). Defaults to WGS84.
 */
struct Ellipsoid {
  double a = 6378137.0;
  double inv_f = 298.257223563;
};

/** @brief Area of one pixel of a projected grid, in hectares.
 *
 * |det| of the geotransform's 2x2 part (pixel width * pixel height - row rotation * column
 * rotation), so rotated and sheared grids are handled, converted with `linear_unit_m` (metres
 * per CRS unit: 1 for metres, 0.3048 for international feet, 1200/3937 for US survey feet) and
 * divided by 10 000 m^2/ha. The CRS is assumed projected (map units of length); no check.
 * Throws reclaim::input_error for a non-finite or non-positive linear_unit_m.
 */
[[nodiscard]] double projected_cell_area_ha(Grid const& grid, double linear_unit_m = 1.0);

/** @brief Area of one pixel of row `row` of a geographic (degrees) grid, in hectares.
 *
 * The exact area on `ellipsoid` of the cell bounded by the row's two latitudes
 * (geotransform[3] + row * geotransform[5] and the same for row + 1) and one pixel of
 * longitude (|geotransform[1]| degrees), from the authalic-latitude formula
 * (Snyder 1987, "Map projections: a working manual", eq. 3-12):
 *
 *   A = (b^2 * dλ / 2) * [q(φ2) - q(φ1)],
 *   q(φ) = sinφ / (1 - e²sin²φ) + (1 / (2e)) ln((1 + e sinφ) / (1 - e sinφ)),
 *
 * with b the semi-minor axis and e the first eccentricity. The difference q(φ2) - q(φ1) is
 * evaluated without cancellation (from sinφ2 - sinφ1 and atanh's difference identity), so
 * metre-sized cells keep full relative precision. Rows may lie outside [0, height): only the
 * latitudes matter. Every cell of a row has the same area; the result does not depend on
 * the sign of the pixel height (south-up grids give the same areas).
 *
 * Throws reclaim::input_error when the geotransform is rotated (geotransform[2] or [4] not 0:
 * then areas vary along a row), when a latitude is beyond ±90° by more than 1e-9° (smaller
 * overshoots, from rounding of global grids, are clamped to the pole), when the pixel width
 * exceeds 360° or anything is non-finite, or for an invalid ellipsoid (a <= 0, or
 * 0 < inv_f <= 1, or inv_f < 0).
 */
[[nodiscard]] double geographic_cell_area_ha(Grid const& grid, std::int64_t row, Ellipsoid ellipsoid = {});

/** @brief Pixel areas (hectares) of rows y0 .. y0 + rows - 1 of `grid`, one value per row.
 *
 * geographic: geographic_cell_area_ha of each row; otherwise every entry is
 * projected_cell_area_ha(grid, linear_unit_m) (the ellipsoid is then ignored). Throws
 * reclaim::logic_error when the rows are not inside [0, grid.height), and the errors of the
 * functions above.
 */
[[nodiscard]] std::vector<double> row_areas_ha(Grid const& grid, std::int64_t y0, std::int64_t rows,
                                               bool geographic, Ellipsoid ellipsoid = {},
                                               double linear_unit_m = 1.0);

/// row_areas_ha for the rows of a tile window: window.y0 .. window.y0 + window.height - 1.
[[nodiscard]] std::vector<double> row_areas_ha(Grid const& grid, TileWindow const& window, bool geographic,
                                               Ellipsoid ellipsoid = {}, double linear_unit_m = 1.0);

}  // namespace reclaim
