#pragma once
/** @file
 * @brief Per-zone statistics of the products of a pass: what is accumulated (ZonalProduct,
 * ProductAccumulators), and the work the backends do per tile (ZonalWork).
 *
 * The plan step turns each zone's coverage (spans + weighted edge pixels, coverage.hpp) into
 * ZonalItems ONCE, per tile of the plan, before the pass: coverage is computed over the zone's
 * own pixel window, so the fractions do not depend on the tiling (nor, for shards on the same
 * lattice, on the shard). During the pass every backend worker accumulates the items of the
 * tiles it computed into its own accumulators, where it computed them: the CPU worker from its
 * host planes (accumulate_tile_cpu), the CUDA worker on the device before anything is copied
 * back (host/cuda/cuda_zonal.hpp). The workers' accumulators are merged at the end, in worker
 * order. Sums, counts, areas, histogram bins and class weights are exact integers, so the result
 * is bit-identical whatever the tiling, the worker count or the backend, the second moment
 * (stddev) included (pixel/zonal.hpp).
 */
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "reclaim/coverage.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"
#include "reclaim/zone.hpp"

namespace reclaim {

/// Histogram bins for medians and percentiles: accuracy = (range) / kZonalBins.
inline constexpr int kZonalBins = 1024;
using ZonalHistogram = pixel::HistogramAccumulator<kZonalBins>;

/// One plane of the pass whose per-zone statistics are wanted.
struct ZonalProduct {
  std::string name;  ///< column prefix, e.g. "ndvi_2019", "dndvi", "change_class"
  int plane = 0;     ///< output plane of the pass
  /// A class raster: per-class areas and fractions, majority (else value statistics).
  bool categorical = false;
  /// Class names, index = class value ("" = unnamed); only named classes get columns, or
  /// every class seen when there are no names.
  std::vector<std::string> class_names;
  /// Classes by threshold: a categorical product over a value plane, class 2 where value >=
  /// threshold, 1 below it, 0 where the value is NaN (vegetated / not vegetated by NDVI).
  std::optional<double> threshold;
  bool histograms = false;  ///< median / percentiles requested (value products)
  double histogram_lo = -1.0;
  double histogram_hi = 1.0;
};

/// The accumulators of one product, one entry per zone (struct of arrays, as the backends want).
struct ProductAccumulators {
  std::vector<pixel::ValueAccumulator> values;
  std::vector<pixel::ZoneArea> areas;
  std::vector<ZonalHistogram> histograms;        ///< empty unless product.histograms
  std::vector<pixel::ClassAccumulator> classes;  ///< empty unless product.categorical
  /// Square metres per unit of class weight: the pixel area in a projected CRS (whole pixels
  /// count exactly), a fixed area per pixel size in a geographic one. 0 until set.
  double class_unit_m2 = 0.0;
  /// Hectares of class c in zone z.
  [[nodiscard]] double class_ha(std::size_t z, int c) const noexcept {
    return classes[z].weight(c) * class_unit_m2 * 1e-4;
  }

  /// Empty accumulators for `zones` zones.
  static ProductAccumulators make(ZonalProduct const& product, std::size_t zones, double class_unit_m2 = 0.0);
  /// Exact merge (same product, same zone count; throws input_error otherwise).
  void merge(ProductAccumulators const& other);
  /// Exact merge of zone `from` of `other` into zone `to` (the units of a national run hold
  /// their own sites only); throws input_error for another product or a zone out of range.
  void merge_zone(ProductAccumulators const& other, std::size_t from, std::size_t to);
};

/// The zones' items in one tile of the plan, tile-relative and sorted by zone (the CUDA
/// kernels need each zone's items contiguous), with the tile's per-row pixel areas.
struct TileZonalItems {
  std::vector<pixel::ZonalItem> items;
  std::vector<double> row_m2;     ///< pixel area of each tile row, m2
  std::vector<double> row_units;  ///< the same in class-weight units (1 in a projected CRS)
};

/// Everything a backend worker needs to accumulate the zonal products of a pass.
struct ZonalWork {
  std::vector<ZonalProduct> products;
  std::size_t zone_count = 0;
  double class_unit_m2 = 0.0;
  /// One entry per tile of the plan, by position in TilePlan::tiles.
  std::vector<TileZonalItems> tiles;

  /// Empty accumulators of every product.
  [[nodiscard]] std::vector<ProductAccumulators> make_accumulators() const;
};

/**
 * @brief The zonal work of a pass over `tiles` of `grid`: each zone's coverage once, cut per tile.
 * geographic: ellipsoidal cell areas per row (else from the geotransform). Zones without parts
 * get no items (count 0 in the results, never dropped). Coverage runs on `threads` threads.
 */
[[nodiscard]] ZonalWork make_zonal_work(Grid const& grid, std::span<TileWindow const> tiles,
                                        std::span<Zone const> zones, CoverageMode mode, bool geographic,
                                        std::vector<ZonalProduct> products, int threads = 1);

/**
 * @brief The CPU reference of one tile: accumulates tile `tile`'s items from its output planes
 * (`plane_count` planes of the tile's pixels, `width` per row) into `acc` (one per product).
 * `scratch`: reused between calls (threshold products).
 */
void accumulate_tile_cpu(ZonalWork const& work, std::size_t tile, float const* planes, int plane_count,
                         std::size_t width, std::size_t pixels, std::vector<ProductAccumulators>& acc,
                         std::vector<float>& scratch);

/// Merges per-worker results into `into` (empty `into`: takes the first).
void merge_zonal_results(std::vector<ProductAccumulators>& into, std::vector<ProductAccumulators> const& from);

/// Statistic names accepted by --stats for value products: count, nodata_count, area_ha,
/// valid_area_ha, sum, mean, stddev, min, max, median, coverage, pNN (percentile NN).
[[nodiscard]] bool is_zonal_stat(std::string const& name) noexcept;
/// True when a statistic list needs histograms (median or a percentile).
[[nodiscard]] bool needs_histograms(std::vector<std::string> const& stats) noexcept;
/// One value statistic of zone z (NaN when undefined, e.g. no valid pixel).
[[nodiscard]] double value_stat(ProductAccumulators const& acc, std::size_t z, std::string const& name);

}  // namespace reclaim
