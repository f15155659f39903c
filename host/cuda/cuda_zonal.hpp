#pragma once
// Zonal statistics on one GPU: per-zone accumulators kept on the device while tiles stream past,
// the device twin of pixel::accumulate_value_items / accumulate_class_items (see
// kernels/zonal_kernel.cuh for the kernels and what is bit-identical to the CPU).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "host/cuda/cuda_raii.hpp"
#include "kernels/zonal_kernel.cuh"
#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace reclaim::cuda {

/// A tile's items cut into kernel work (kernels::ZonalChunk), built on the host.
struct ZonalPlan {
  std::vector<std::int64_t> item_offset;  ///< item_count + 1: each item's first position in the pixel order
  std::vector<kernels::ZonalChunk> chunks;
};

/**
 * @brief Cuts items into chunks of at most kernels::kZonalChunkPixels pixels of one zone each.
 *
 * Throws reclaim::logic_error unless the items are sorted by zone (non-decreasing), every zone
 * is in [0, zone_count) and every non-empty item lies inside a `width` x `rows` tile. Items
 * with col_end <= col_begin cover no pixel (as in the CPU reference).
 */
ZonalPlan plan_zonal_items(std::span<pixel::ZonalItem const> items, int zone_count, std::size_t width,
                           std::size_t rows);

/** @brief A tile's items and their chunks on the device, uploaded once per tile and read by
 * the kernels of every product of the tile (kernels::ZonalItemsView). Buffers grow as needed;
 * everything is ordered on the stream given to upload_async. */
class DeviceZonalItems {
 public:
  /// Queues the upload of `items` and their `plan` (plan_zonal_items(items, ...)) on `stream`;
  /// the host vectors are staged before the call returns, so they may be reused at once.
  void upload_async(std::span<pixel::ZonalItem const> items, ZonalPlan const& plan, cudaStream_t stream);
  /// The uploaded tile (valid once the upload has run on the stream).
  [[nodiscard]] kernels::ZonalItemsView view() const noexcept;
  [[nodiscard]] int chunk_count() const noexcept { return m_chunk_count; }

 private:
  int m_chunk_count = 0;
  DeviceBuffer<pixel::ZonalItem> m_items;
  DeviceBuffer<std::int64_t> m_item_offset;
  DeviceBuffer<kernels::ZonalChunk> m_chunks;
};

/// What a CudaZonalAccumulator holds, one entry per zone.
struct ZonalResults {
  std::vector<pixel::ValueAccumulator> values;
  std::vector<pixel::ZoneArea> areas;
  std::vector<kernels::ZonalHistogram> histograms;  ///< empty unless histograms were requested
  std::vector<pixel::ClassAccumulator> classes;     ///< empty until a class tile was added
};

/**
 * @brief Per-zone value statistics (and histograms), or class weights, accumulated on one GPU.
 *
 * add_value_tile / add_class_tile upload a tile's items and plane and run the kernels; they
 * synchronise before returning, so the caller may reuse its buffers, and a device error is
 * thrown (reclaim::cuda_error) by the call that caused it. Tiles add up in call order. Not
 * thread-safe; any thread may call it (each call makes the device current).
 */
class CudaZonalAccumulator {
 public:
  /// histograms: also keep a kernels::ZonalHistogram over [lo, hi) per zone (lo < hi, finite).
  CudaZonalAccumulator(int zone_count, bool histograms, double lo = -1.0, double hi = 1.0, int device = 0);

  /// A value plane: `width` floats per row, rows = row_cell_m2.size() (pixel area per row).
  void add_value_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane, std::size_t width,
                      std::span<double const> row_cell_m2);
  /// A class plane (classes 0..255 as floats), laid out as add_value_tile's; row_cell_units:
  /// each row's pixel area in class-weight units (pixel::accumulate_class_items).
  void add_class_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane, std::size_t width,
                      std::span<double const> row_cell_units);

  /// The accumulators so far (copies; accumulation may go on).
  [[nodiscard]] ZonalResults download() const;

  [[nodiscard]] int zone_count() const noexcept { return m_zone_count; }

 private:
  /// Plans and uploads the tile (row_cell: one value per row); false when it covers no pixel.
  bool upload_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane, std::size_t width,
                   std::span<double const> row_cell);

  int m_device;
  int m_zone_count;
  Stream m_stream;  // declared before the buffers: they free on it
  DeviceBuffer<pixel::ValueAccumulator> m_values;
  DeviceBuffer<pixel::ZoneArea> m_areas;
  DeviceBuffer<kernels::ZonalHistogram> m_histograms;
  DeviceBuffer<pixel::ClassAccumulator> m_classes;
  // Per-tile scratch, grown as needed.
  ZonalPlan m_plan;
  DeviceZonalItems m_tile;
  DeviceBuffer<float> m_plane;
  DeviceBuffer<double> m_row_cell;  ///< pixel area per row (m2, or class-weight units)
  DeviceBuffer<kernels::ZonalValuePartial> m_partials;
};

}  // namespace reclaim::cuda
