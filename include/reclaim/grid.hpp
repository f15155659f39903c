#pragma once
/** @file
 * @brief Raster grid (size, geotransform, CRS) and the tile windows the scheduler walks.
 */
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reclaim {

/** @brief A raster grid: pixel size and georeferencing, as GDAL describes it.
 *
 * geotransform follows GDAL's order: x0, pixel width, row rotation, y0, column rotation,
 * pixel height (negative for north-up). crs_wkt is WKT2 text (empty: unknown).
 */
struct Grid {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::array<double, 6> geotransform{0, 1, 0, 0, 0, -1};
  std::string crs_wkt;
  /// Natural read unit of the source (GDAL block size); tiles are multiples of it.
  std::int32_t block_width = 256;
  std::int32_t block_height = 256;

  [[nodiscard]] std::int64_t pixel_count() const noexcept { return width * height; }
};

/// One rectangular window of the grid, in pixels.
struct TileWindow {
  std::int64_t id = 0;
  std::int64_t x0 = 0;
  std::int64_t y0 = 0;
  std::int32_t width = 0;
  std::int32_t height = 0;

  [[nodiscard]] std::size_t pixel_count() const noexcept {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
  }
};

/// xmin, ymin, xmax, ymax in map units.
using Bounds = std::array<double, 4>;

/// Closed boxes meet (touching edges count).
[[nodiscard]] constexpr bool overlaps(Bounds const& a, Bounds const& b) noexcept {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

/// Windows share at least one pixel.
[[nodiscard]] constexpr bool overlaps(TileWindow const& a, TileWindow const& b) noexcept {
  return a.x0 < b.x0 + b.width && b.x0 < a.x0 + a.width && a.y0 < b.y0 + b.height && b.y0 < a.y0 + a.height;
}

/** @name Pixel-window arithmetic: the one place that turns map boxes into pixel windows and back
 * (north-up grids: the rotation terms of the geotransform are not used). */
///@{
/// The map-unit bounds of a pixel window.
[[nodiscard]] Bounds window_bounds(Grid const& grid, TileWindow const& window) noexcept;
/// The geotransform of `window` sampled every `step` pixels (pictures, crops).
[[nodiscard]] std::array<double, 6> window_geotransform(Grid const& grid, TileWindow const& window,
                                                        std::int32_t step = 1) noexcept;
/** The smallest window on the grid's pixel lattice holding `box` grown by `margin` pixels on
 * every side; at least 1 x 1. It may reach past the grid (clip_to_grid). */
[[nodiscard]] TileWindow window_of_bounds(Grid const& grid, Bounds const& box, double margin = 0.0) noexcept;
/// The part of `window` inside the grid (width or height 0 when none).
[[nodiscard]] TileWindow clip_to_grid(Grid const& grid, TileWindow const& window) noexcept;
/// The pixels both windows hold (width or height 0 when none; id 0).
[[nodiscard]] TileWindow intersection(TileWindow const& a, TileWindow const& b) noexcept;
///@}

/// A run of pixels of one tile: [begin, end) in the tile's row-major pixel index.
struct PixelRun {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  friend bool operator==(PixelRun const&, PixelRun const&) = default;
};

/** @brief The tiles of one pass and the buffer budget they were sized for. */
struct TilePlan {
  Grid grid;
  std::int32_t tile_width = 0;
  std::int32_t tile_height = 0;
  /// Host buffer slots (one input + one output buffer each) the scheduler may allocate.
  std::int32_t slot_count = 0;
  std::vector<TileWindow> tiles;
  /** Per tile (parallel to `tiles`): the pixels something reads from the pass's outputs, as
   * sorted, disjoint, non-empty runs (pixels_read.hpp); empty: every pixel of every tile. The CPU
   * backend computes only these and gives every other pixel the pass's no-data outputs (what it
   * computes for a pixel whose inputs are all NaN); the CUDA backend computes every pixel. A
   * pass that writes full rasters has none. */
  std::vector<std::vector<PixelRun>> pixels_read;

  [[nodiscard]] std::size_t max_tile_pixels() const noexcept {
    return static_cast<std::size_t>(tile_width) * static_cast<std::size_t>(tile_height);
  }
};

/** @brief What a plan must fit. */
struct PlanRequest {
  std::int32_t input_planes = 1;
  std::int32_t output_planes = 1;
  /// Upper bound on all host tile buffers together, in bytes.
  std::size_t memory_budget = std::size_t{512} << 20;
  /// Buffer slots wanted to keep readers, compute and writer busy at once.
  std::int32_t slots_wanted = 6;
  /// Preferred tile size in pixels (rounded to whole blocks).
  std::int64_t target_tile_pixels = std::int64_t{1} << 20;
};

/** @brief Cuts the grid into block-aligned tiles whose buffers fit the memory budget.
 *
 * Tiles are whole multiples of the block size (the last row/column of tiles is ragged).
 * At least two slots are planned when there are two tiles or more, so the smallest tile
 * is one block and the budget is a soft floor at two one-block slots; never more slots
 * than tiles. Throws reclaim::usage_error for an empty grid.
 */
TilePlan make_plan(Grid const& grid, PlanRequest const& request);

}  // namespace reclaim
