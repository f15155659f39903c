#pragma once
/** @file
 * @brief The streaming pipeline: reader threads -> bounded queue -> compute workers ->
 * writer thread, over a fixed pool of host buffer slots (so memory is bounded by the plan,
 * never by the raster size).
 */
#include <cstdint>
#include <functional>
#include <vector>

#include "reclaim/backend.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim {

struct Progress {
  std::int64_t tiles_done = 0;
  std::int64_t tiles_total = 0;
  std::int64_t pixels_done = 0;
  double elapsed_seconds = 0;
};

struct SchedulerOptions {
  /// Reader threads, each with its own TileReader (decode runs here, in parallel).
  int reader_threads = 2;
  /// Called from the writer thread after each tile is written.
  std::function<void(Progress const&)> on_progress;
  /// Per-zone statistics accumulated by the compute workers (indexed like the plan's tiles), or null.
  ZonalWork const* zonal = nullptr;
  /// Called on the compute threads with each tile's host output planes, before it is queued for writing.
  std::vector<TileObserver*> observers;
};

struct RunStats {
  std::int64_t tiles = 0;
  std::int64_t pixels = 0;
  double seconds = 0;
  std::int32_t slots = 0;
  std::size_t host_buffer_bytes = 0;
  /// With options.zonal: every worker's accumulators merged (worker order), one per product.
  std::vector<ProductAccumulators> zonal;
};

/** @brief Runs `pass` over every tile of `plan`.
 *
 * Any exception thrown by a reader, worker or the sink stops the pipeline and is
 * rethrown here (the first one wins).
 */
RunStats run_pipeline(TileSource const& source, TileSink& sink, Backend& backend, PixelPass const& pass,
                      TilePlan const& plan, SchedulerOptions const& options);

}  // namespace reclaim
