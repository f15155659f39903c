#pragma once
/** @file
 * @brief A TileSource over the GDAL files of one epoch: reads only the bands a request
 * needs, one dataset handle per reader thread, and upsamples coarser bands onto the
 * finest band's grid on the fly.
 */
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "reclaim/io/epoch_source.hpp"
#include "reclaim/io/scene.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim::io {

/// The grid of a raster file (size, geotransform, CRS); throws input_error naming the file.
[[nodiscard]] Grid raster_grid(std::filesystem::path const& path);

/** The pixel window of `target` that holds the extent of `of` (transformed into the target's
 * CRS, edges densified), clipped to the target; nullopt when they do not overlap. Throws
 * input_error when the extent cannot be transformed. */
[[nodiscard]] std::optional<TileWindow> footprint_on(Grid const& of, Grid const& target);

/** `first` extended on its own pixel lattice to hold the extents of `others` (transformed into
 * its CRS): the default grid of a mosaic. */
[[nodiscard]] Grid extended_grid(Grid const& first, std::vector<Grid> const& others);

class GdalTileSource final : public EpochSource {
 public:
  /** @param needed_bands Band bit set to read (from pixel::bands_needed)
   * @param target another grid to read onto (another epoch's): when the scene's own grid
   *        differs, every file is warped onto it on the fly (GDAL warped VRT: bilinear, or
   *        nearest for quality bands and --resampling nearest)
   * @param mosaic with a target: every file whose grid is not the target's is warped onto it
   *        as Float32 with NaN where the file has no pixel, so a scene covering part of a
   *        mosaic reads NaN (not clear) elsewhere, and all bands of a scene are resampled alike
   * Throws input_error when the bands' grids differ in CRS or do not nest, or when a file
   * does not overlap the target at all. */
  GdalTileSource(SceneSpec const& scene, std::uint32_t needed_bands, std::optional<Grid> const& target = {},
                 bool mosaic = false);
  ~GdalTileSource() override;

  [[nodiscard]] Grid const& grid() const override { return m_grid; }
  [[nodiscard]] int plane_count() const override { return static_cast<int>(m_planes.size()); }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override;

  /// FusedParams with the plane layout, calibration and mask of this source; the
  /// caller adds the outputs.
  [[nodiscard]] pixel::FusedParams fused_params() const override { return m_params; }
  /// Every file read, once each.
  [[nodiscard]] std::vector<std::filesystem::path> files() const override;
  /// The scene's input (a file or product folder), else its files.
  [[nodiscard]] std::string name() const override;
  /// True when some file is warped onto the target grid (another CRS or pixel lattice).
  [[nodiscard]] bool warped() const noexcept { return !m_warped.empty(); }

  /// One input plane: a band of a file and how it maps onto the target grid.
  struct Plane {
    BandRef ref;
    int factor_x = 1;
    int factor_y = 1;
    std::int64_t width = 0;   ///< the file's size, in its own pixels
    std::int64_t height = 0;
    Resampling method = Resampling::nearest;
    bool has_nodata = false;  ///< DN == nodata becomes NaN before resampling
    double nodata = 0;
    /// Int8 stored as Byte with PIXELTYPE=SIGNEDBYTE (GDAL < 3.7): GDAL reads 0..255, we fold it.
    bool signed_byte = false;
  };

 private:
  Grid m_grid;
  std::vector<Plane> m_planes;
  std::vector<std::filesystem::path> m_warped;  ///< /vsimem/ VRTs this source created
  std::filesystem::path m_input;                ///< SceneSpec::input
  pixel::FusedParams m_params;
};

}  // namespace reclaim::io
