#pragma once
/** @file
 * @brief Polygon -> pixel coverage on a north-up grid, restricted to one tile window, for
 * zonal statistics: computed once per tile on the host and handed to a backend as compact
 * runs of fully covered pixels plus weighted edge pixels, so the backend only accumulates.
 *
 * No GDAL here: polygons arrive as rings of (x, y) in the grid's CRS. Cost grows with the
 * pixels the boundary touches plus the polygon's edges (plus the rows of the window the
 * polygon spans); interior pixels are emitted as spans and never visited one by one.
 */
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "reclaim/grid.hpp"

namespace reclaim {

/// A vertex, in the grid's CRS.
struct Point {
  double x = 0.0;
  double y = 0.0;
};

/// A ring, closed or not (an edge from the last vertex back to the first is implied).
using Ring = std::vector<Point>;

/** @brief A polygon: one outer ring and its holes, in any orientation (normalised inside).
 *
 * Expected valid as OGC defines it (simple rings, holes inside the outer ring and disjoint),
 * as exactextract expects. A multipolygon is several Polygons whose parts do not overlap.
 */
struct Polygon {
  Ring outer;
  std::vector<Ring> holes;
};

/** @brief How a pixel is assigned to a zone.
 *
 * - center: the pixel centre is inside (GDAL rasterize's default). Ties: a centre exactly on
 *   the boundary belongs to the polygon on its left (the scanline is half-open in y and a
 *   crossing counts when it lies strictly left of the centre), so adjacent zones sharing an
 *   edge never both claim a pixel.
 * - all_touched: the open pixel square meets the polygon's interior (exact fraction > 0, up to
 *   a 1e-12 round-off tolerance); a superset of center for valid polygons. Pixels that the
 *   boundary only grazes along a line or at a point are not included.
 * - exact: each pixel weighted by area(polygon ∩ pixel) / area(pixel), as exactextract does.
 */
enum class CoverageMode { center, all_touched, exact };

/// "center", "all-touched" (or "all_touched"), "exact"; nullopt otherwise.
[[nodiscard]] std::optional<CoverageMode> parse_coverage_mode(std::string_view name) noexcept;

/// A run of fully covered pixels of one row: columns [col_begin, col_end), window-relative.
struct CoverageSpan {
  std::int32_t row = 0;
  std::int32_t col_begin = 0;
  std::int32_t col_end = 0;
};

/// A partly covered pixel (exact mode only), window-relative; 0 < fraction < 1.
struct EdgePixel {
  std::int32_t row = 0;
  std::int32_t col = 0;
  double fraction = 0.0;
};

/** @brief The coverage of one zone in one tile window.
 *
 * Rows and columns are relative to the window (tile pixel (col, row) is grid pixel
 * (window.x0 + col, window.y0 + row)). spans are maximal runs of pixels with fraction 1
 * (to 1e-12), sorted by (row, col_begin); edges are sorted by (row, col) and never overlap
 * a span. center and all_touched give spans only.
 */
struct ZoneCoverage {
  std::vector<CoverageSpan> spans;
  std::vector<EdgePixel> edges;

  [[nodiscard]] bool empty() const noexcept { return spans.empty() && edges.empty(); }
};

/** @brief Coverage of `polygon` in `window` of `grid`.
 *
 * Throws reclaim::input_error for a rotated or degenerate geotransform (rotation terms not 0,
 * or a zero pixel size) or a non-finite vertex. Rings with fewer than three vertices or no
 * area are ignored. The window may extend past the grid; pixels are geometric squares.
 */
[[nodiscard]] ZoneCoverage cover(Polygon const& polygon, Grid const& grid, TileWindow const& window,
                                 CoverageMode mode);

/// Coverage of a multipolygon (parts must not overlap: overlapping parts are not unioned exactly).
[[nodiscard]] ZoneCoverage cover(std::span<Polygon const> parts, Grid const& grid, TileWindow const& window,
                                 CoverageMode mode);

}  // namespace reclaim
