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

class SiteCropObserver final : public TileObserver {
 public:
  using Callback = std::function<void(std::size_t crop, Crop&& crop_data)>;
  /// `planes`: the pass's output planes to capture, in the order of Crop::planes.
  SiteCropObserver(std::vector<TileWindow> const& plan_tiles, std::vector<CropRequest> requests,
                   std::vector<int> planes, Callback on_complete);
  void observe(TileWindow const& window, float const* planes, int plane_count) override;
  /// Crops whose tiles never all arrived (an aborted pass); 0 after a complete pass.
  [[nodiscard]] std::size_t pending() const noexcept;

 private:
  std::vector<CropRequest> m_requests;
  std::vector<int> m_planes;
  Callback m_on_complete;
  std::vector<std::int64_t> m_tiles_left;  ///< guarded by the crop's lock
  std::vector<Crop> m_crops;               ///< allocated on the first tile, freed when complete
  std::unique_ptr<std::mutex[]> m_locks;   ///< one per crop
};

}  // namespace reclaim
