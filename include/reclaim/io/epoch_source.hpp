#pragma once
/** @file
 * @brief What every command reads an epoch through: the tiles of one scene (GdalTileSource)
 * or of a season of scenes composited per pixel (CompositeEpochSource), with the fused-pass
 * layout that turns its planes into reflectance.
 */
#include <filesystem>
#include <vector>

#include "reclaim/pixel/fused.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim::io {

class EpochSource : public TileSource {
 public:
  /// FusedParams with the plane layout, calibration and mask of this source; the caller adds
  /// the outputs.
  [[nodiscard]] virtual pixel::FusedParams fused_params() const = 0;
  /// Every file read, once each.
  [[nodiscard]] virtual std::vector<std::filesystem::path> files() const = 0;
};

}  // namespace reclaim::io
