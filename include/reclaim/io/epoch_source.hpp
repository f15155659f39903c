#pragma once
/** @file
 * @brief What every command reads an epoch through: the tiles of one scene (GdalTileSource)
 * or of a season of scenes composited per pixel (CompositeEpochSource), with the fused-pass
 * layout that turns its planes into reflectance; and a window of either (WindowEpochSource),
 * which is how a unit of a national run reads its part of the national grid.
 */
#include <filesystem>
#include <memory>
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

/** @brief A pixel window of another epoch source, as a grid of its own (origin moved by whole
 * pixels, so on the same lattice). A tile (x, y) of the window is the inner source's tile
 * (x0 + x, y0 + y): the same reads, hence the same values, as a pass over the whole grid,
 * since every source's pixels do not depend on how the grid is tiled. */
class WindowEpochSource final : public EpochSource {
 public:
  /// `window` must lie inside the inner grid (usage_error otherwise).
  WindowEpochSource(std::unique_ptr<EpochSource> inner, TileWindow const& window);
  [[nodiscard]] Grid const& grid() const override { return m_grid; }
  [[nodiscard]] int plane_count() const override { return m_inner->plane_count(); }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;
  [[nodiscard]] std::string name() const override { return m_inner->name(); }
  [[nodiscard]] pixel::FusedParams fused_params() const override { return m_inner->fused_params(); }
  [[nodiscard]] std::vector<std::filesystem::path> files() const override { return m_inner->files(); }
  [[nodiscard]] EpochSource const& inner() const noexcept { return *m_inner; }

 private:
  std::unique_ptr<EpochSource> m_inner;
  TileWindow m_window;
  Grid m_grid;
};

}  // namespace reclaim::io
