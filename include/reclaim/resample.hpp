#pragma once
/** @file
 * @brief On-the-fly upsampling of a coarser band onto the target (finest) grid, for bands
 * whose grids nest: same origin, pixel sizes in an integer ratio (Sentinel-2 20 m onto 10 m).
 *
 * Conventions (documented in docs/indices.md): pixel centres are aligned as GDAL does, a
 * fine pixel i maps to coarse continuous coordinate u = (i + 0.5) / f - 0.5; bilinear
 * clamps at the raster edge; a NaN among the neighbours with non-zero weight gives NaN.
 */
#include <cstdint>
#include <optional>
#include <string_view>

#include "reclaim/grid.hpp"

namespace reclaim {

enum class Resampling { nearest, bilinear };

[[nodiscard]] std::optional<Resampling> parse_resampling(std::string_view name) noexcept;

/// A window of the coarse raster, in coarse pixels.
struct CoarseWindow {
  std::int64_t x0 = 0, y0 = 0;
  std::int32_t width = 0, height = 0;
};

/// The coarse pixels needed to resample `fine` (with the bilinear margin, clipped to the raster).
[[nodiscard]] CoarseWindow coarse_window_for(TileWindow const& fine, int factor_x, int factor_y,
                                             std::int64_t coarse_width, std::int64_t coarse_height,
                                             Resampling method) noexcept;

/** @brief Resamples `coarse` (the window `cw`, row-major) onto the fine tile `fine`.
 * @param out fine.width * fine.height floats
 */
void upsample(float const* coarse, CoarseWindow const& cw, TileWindow const& fine, int factor_x, int factor_y,
              std::int64_t coarse_width, std::int64_t coarse_height, Resampling method, float* out) noexcept;

}  // namespace reclaim
