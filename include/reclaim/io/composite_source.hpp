#pragma once
/** @file
 * @brief An epoch made of a season of scenes: every scene read onto one output grid (warped
 * across UTM zones), masked, and composited per pixel over its clear observations.
 */
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reclaim/io/epoch_source.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/inventory.hpp"
#include "reclaim/pixel/composite.hpp"

namespace reclaim::io {

struct CompositeOptions {
  pixel::CompositeMethod method = pixel::CompositeMethod::median;
  std::vector<double> percentiles;  ///< NDVI percentiles, as planes after clear_count
};

[[nodiscard]] std::optional<pixel::CompositeMethod> parse_composite_method(std::string_view name) noexcept;
[[nodiscard]] std::string_view composite_method_name(pixel::CompositeMethod method) noexcept;

/** @brief The composite of a set of scenes, as the planes of pixel::composite_pixel: reflectance
 * of the six bands (NaN for bands not composited), clear_count, then the NDVI percentiles.
 *
 * A tile reads only the scenes whose footprints meet it. Scenes of one platform on one date
 * (the MGRS tiles of one overpass) are one observation: per pixel, the first of them (in
 * (datetime, id) order) that is clear there. Per reader thread the tile is composited in row
 * chunks whose observations fit kScratchBytes.
 */
class CompositeEpochSource final : public EpochSource {
 public:
  /** Observation scratch of one reader thread: a tile of 1024 x 1024 px with 30 observations of
   * four bands fits (480 MiB); more split the tile into row chunks, and every chunk reads the
   * scenes again (their blocks are decoded again unless GDAL's cache holds them: 8 chunks
   * took 25x the decode floor). */
  static constexpr std::size_t kScratchBytes = std::size_t{480} << 20;

  /** @param scenes filtered, in (datetime, id) order
   * @param needed_bands the bands the caller's outputs read; every band all scenes have is
   *        composited anyway (an observation is clear where all of them have a value, and that
   *        must not depend on the outputs asked for)
   * @param target the output grid; default: the first scene's grid extended to every scene
   * Scenes that do not meet the target are left out (notes()). Throws input_error when none is
   * left, a scene lacks a band, or there are more observation days than kMaxObservations. */
  CompositeEpochSource(std::vector<InventoryScene> scenes, std::uint32_t needed_bands, CompositeOptions options,
                       std::optional<Grid> const& target);
  ~CompositeEpochSource() override;

  [[nodiscard]] Grid const& grid() const override { return m_grid; }
  [[nodiscard]] int plane_count() const override { return pixel::composite_output_planes(m_params); }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;
  [[nodiscard]] std::string name() const override;
  /// Reflectance planes with identity calibration, no mask (masked pixels are NaN already).
  [[nodiscard]] pixel::FusedParams fused_params() const override;
  /// The scenes' own files (not the warped views of them).
  [[nodiscard]] std::vector<std::filesystem::path> files() const override;

  [[nodiscard]] pixel::CompositeParams const& params() const noexcept { return m_params; }
  [[nodiscard]] static constexpr int clear_count_plane() noexcept { return pixel::kBandCount; }
  [[nodiscard]] std::size_t scene_count() const noexcept { return m_parts.size(); }
  [[nodiscard]] int observation_days() const noexcept { return m_days; }
  /// Each scene's output pixels, and whether it is warped onto the grid (a national plan's cost
  /// estimate counts a unit's observations).
  [[nodiscard]] std::vector<std::pair<TileWindow, bool>> footprints() const;
  /// "median of 12 scenes on 9 days (2019-06-03 .. 2019-09-28)"
  [[nodiscard]] std::string description() const;
  /// Scenes left out, one line each.
  [[nodiscard]] std::vector<std::string> const& notes() const noexcept { return m_notes; }

  struct Part {
    InventoryScene item;
    std::unique_ptr<GdalTileSource> source;  ///< on the output grid
    pixel::FusedParams params;               ///< its planes, calibration and mask
    TileWindow footprint;                    ///< the output pixels it may cover
    int day = 0;                             ///< observation index (chronological)
  };

 private:
  Grid m_grid;
  std::vector<Part> m_parts;
  pixel::CompositeParams m_params;   ///< bands: those kept per observation, packed
  std::uint32_t m_clear_bands = 0;  ///< bands read and required for a clear observation
  int m_days = 0;
  std::vector<std::string> m_notes;
};

}  // namespace reclaim::io
