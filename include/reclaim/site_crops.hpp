#pragma once
/** @file
 * @brief Captures small windows of chosen output planes while tiles stream past: the pixels
 * of each site's pictures (and a decimated overview), so pictures need no second read.
 *
 * Each crop is a grid window sampled every `step` pixels (step > 1 keeps big sites to a
 * bounded picture size). A crop is handed to `on_complete` as soon as the last tile it
 * intersects has been computed, then freed: memory holds only the crops still in flight.
 * A TileObserver: it runs on the compute threads, concurrently (each crop is guarded by its own
 * lock), so capturing never queues behind the writer thread; the callback runs on the thread
 * that completed the crop and should hand the writing of pictures to another thread.
 */
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "reclaim/grid.hpp"
#include "reclaim/pixel/fused.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim {

struct CropRequest {
  TileWindow window;  ///< on the grid, inside it
  std::int32_t step = 1;
};

struct Crop {
  TileWindow window;
  std::int32_t step = 1;
  std::int32_t width = 0;   ///< sampled columns: ceil(window.width / step)
  std::int32_t height = 0;  ///< sampled rows
  /// One plane per captured pass plane, width * height floats, NaN until written.
  std::vector<std::vector<float>> planes;
};

/// The request for `window` with the smallest step that keeps both sides <= max_side.
[[nodiscard]] CropRequest crop_request(TileWindow window, std::int32_t max_side) noexcept;

/** @brief The samples of a crop that fall in a tile: sample (i, j), the grid pixel
 * (window.x0 + i * step, window.y0 + j * step), for i in [i0, i1) and j in [j0, j1) (empty
 * when i0 >= i1 or j0 >= j1). The one place both the capture and the pixels a pass must compute
 * (pixels_read.hpp) take them from. */
struct CropSamples {
  std::int64_t i0 = 0, i1 = 0, j0 = 0, j1 = 0;
  [[nodiscard]] bool empty() const noexcept { return i0 >= i1 || j0 >= j1; }
};
[[nodiscard]] CropSamples crop_samples_in(CropRequest const& request, TileWindow const& tile) noexcept;

/** @brief Where a captured plane comes from: one of the pass's output planes, or an index of one
 * epoch computed from the tile's input planes at the sampled pixels alone
 * (pixel::epoch_index_value: the passes' formula, so the same bits). The second serves planes only
 * the pictures read, such as true colour: a pass output plane would be computed at every pixel. */
struct CropSource {
  int output_plane = -1;       ///< >= 0: this output plane of the pass
  pixel::FusedParams epoch{};  ///< otherwise: this epoch's bands, calibration and mask in the input tile
  pixel::Index index = pixel::Index::ndvi;

  [[nodiscard]] static CropSource output(int plane) noexcept { return {plane, {}, pixel::Index::ndvi}; }
  [[nodiscard]] static CropSource computed(pixel::FusedParams const& epoch, pixel::Index index) noexcept {
    return {-1, epoch, index};
  }
};

class SiteCropObserver final : public TileObserver {
 public:
  using Callback = std::function<void(std::size_t crop, Crop&& crop_data)>;
  /// `planes`: what to capture, in the order of Crop::planes.
  SiteCropObserver(std::vector<TileWindow> const& plan_tiles, std::vector<CropRequest> requests,
                   std::vector<CropSource> planes, Callback on_complete);
  void observe(TileWindow const& window, float const* planes, int plane_count, float const* inputs,
               int input_count) override;
  /// Crops whose tiles never all arrived (an aborted pass); 0 after a complete pass.
  [[nodiscard]] std::size_t pending() const noexcept;

 private:
  std::vector<CropRequest> m_requests;
  std::vector<CropSource> m_planes;
  /// For each computed plane, its epoch's position in m_epochs (planes of one epoch share one
  /// reflectance per sample); -1 for an output plane.
  std::vector<int> m_epoch_of;
  std::vector<pixel::FusedParams> m_epochs;
  Callback m_on_complete;
  std::vector<std::int64_t> m_tiles_left;  ///< guarded by the crop's lock
  std::vector<Crop> m_crops;               ///< allocated on the first tile, freed when complete
  std::unique_ptr<std::mutex[]> m_locks;   ///< one per crop
};

}  // namespace reclaim
