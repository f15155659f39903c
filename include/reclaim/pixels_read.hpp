#pragma once
/** @file
 * @brief The pixels of each tile that something reads from a pass's outputs, when that is not
 * every pixel: a pass that writes no full raster (assess --no-rasters, the units of a national
 * run) feeds only the sites' zonal statistics, the pictures' samples and the sites' windows.
 * In the bench's 10980 x 10980 assessment with 300 sites these are about 11 % of the pixels of
 * the tiles it reads, so the CPU backend computes the change pass on those alone
 * (TilePlan::pixels_read).
 */
#include <vector>

#include "reclaim/grid.hpp"
#include "reclaim/site_crops.hpp"
#include "reclaim/zonal_work.hpp"

namespace reclaim {

/** @brief For each tile of `plan`, the sorted, disjoint runs of the pixels that are read: the
 * zone items of `zonal` (may be null), the samples of `crops` (crop_samples_in, as the
 * SiteCropObserver takes them) and every pixel of `windows` (rasters written for windows only). */
[[nodiscard]] std::vector<std::vector<PixelRun>> pixels_read(TilePlan const& plan, ZonalWork const* zonal,
                                                             std::vector<CropRequest> const& crops,
                                                             std::vector<TileWindow> const& windows);

/// Throws reclaim::logic_error unless plan.pixels_read is empty or holds, for each tile of the
/// plan, sorted, disjoint, non-empty runs inside the tile.
void validate_pixels_read(TilePlan const& plan);

}  // namespace reclaim
