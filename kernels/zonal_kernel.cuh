#pragma once
// Launch declarations for zonal-statistics accumulation on the GPU: the device twin of
// pixel::accumulate_value_items / accumulate_class_items (pixel/zonal_items.hpp). Plain C++ so
// host/cuda/*.cpp (g++) can call it.
//
// Work decomposition. The items' pixel order (items in order, pixels left to right: the order
// the CPU reference visits them) is cut into chunks of at most kZonalChunkPixels pixels, none
// straddling two zones (host/cuda/cuda_zonal.hpp, plan_zonal_items, builds them on the host,
// where the items are made). Items MUST be sorted by zone (non-decreasing; the planner checks),
// so each zone's pixels are one contiguous run of chunks. One block accumulates one chunk:
//  - values and areas: every thread runs accumulate_value_pixel into its own partial, then
//    cub::BlockReduce merges them (ZonalValuePartial::merge) into one partial per chunk; a
//    second kernel merges each zone's chunk partials, in chunk order, into the zone's
//    accumulator. A fixed reduction tree and a fixed merge order: reproducible run to run.
//  - histogram bins and class weights are uint64 quanta: atomicAdd into block-shared counters,
//    then into the zone's accumulator in global memory (exact and order-free).
// So every ExactSum, count, min/max, bin and class weight is bit-identical to the CPU
// reference; only M2 (and the running mean) follows the GPU's grouping (~1e-15 relative).
//
// Each *_async checks its launches (RECLAIM_CHECK_KERNEL, naming the kernel); with
// RECLAIM_CUDA_SYNC=1 it also synchronises the stream after each launch.
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"

namespace reclaim::kernels {

/// Histogram bins of the GPU path (the products' io::kZonalBins).
inline constexpr int kZonalBins = 1024;
using ZonalHistogram = pixel::HistogramAccumulator<kZonalBins>;

/// Most pixels one block accumulates (16 per thread of a 128-thread block).
inline constexpr int kZonalChunkPixels = 2048;

/// One block's work: consecutive pixels of one zone in the items' pixel order.
struct ZonalChunk {
  std::int64_t pixel_begin;  ///< position of the first pixel in the items' pixel order
  std::int32_t pixel_count;  ///< 1..kZonalChunkPixels
  std::int32_t zone;
  std::int32_t item_begin;  ///< the item holding the first pixel
  std::int32_t item_end;    ///< one past the item holding the last pixel
};

/// A tile's items and their chunks on the device (a view; the caller owns the memory).
struct ZonalItemsView {
  pixel::ZonalItem const* items = nullptr;
  std::int64_t const* item_offset = nullptr;  ///< item_count + 1 entries: each item's first position
  ZonalChunk const* chunks = nullptr;
  int chunk_count = 0;
};

/// What one block accumulates for one chunk of a value plane.
struct ZonalValuePartial {
  pixel::ValueAccumulator values;
  pixel::ZoneArea area;

  RECLAIM_HD void merge(ZonalValuePartial const& o) noexcept {
    values.merge(o.values);
    area.area_m2.merge(o.area.area_m2);
    area.valid_area_m2.merge(o.area.valid_area_m2);
  }
};

/**
 * @brief Accumulates a value plane over the items into per-zone accumulators, as
 * pixel::accumulate_value_items<kZonalBins> does. Does not synchronise.
 * @param work        items sorted by zone, and their chunks (plan_zonal_items)
 * @param d_plane     the tile's value plane, `width` floats per row
 * @param d_row_cell_m2 pixel area per tile row
 * @param d_partials  scratch, work.chunk_count entries
 * @param d_values, d_areas per zone, accumulated into (merge)
 * @param d_histograms per zone, each started from ZonalHistogram::make(lo, hi), or null
 */
void zonal_value_async(ZonalItemsView work, float const* d_plane, std::size_t width, double const* d_row_cell_m2,
                       ZonalValuePartial* d_partials, pixel::ValueAccumulator* d_values, pixel::ZoneArea* d_areas,
                       ZonalHistogram* d_histograms, cudaStream_t stream);

/// Accumulates a class plane over the items into per-zone d_classes, as
/// pixel::accumulate_class_items does (d_row_cell_units: each row's pixel area in class-weight
/// units). Does not synchronise.
void zonal_class_async(ZonalItemsView work, float const* d_plane, std::size_t width, double const* d_row_cell_units,
                       pixel::ClassAccumulator* d_classes, cudaStream_t stream);

/// Sets `count` device histograms to ZonalHistogram::make(lo, hi). Does not synchronise.
void zonal_histograms_init_async(ZonalHistogram* d_histograms, int count, double lo, double hi,
                                 cudaStream_t stream);

}  // namespace reclaim::kernels
