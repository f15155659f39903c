#pragma once
/** @file
 * @brief Per-zone statistics of every product of a pass, accumulated as tiles stream past.
 *
 * ZonalSink is a TileSink: the writer thread hands it each finished tile. Each zone's coverage
 * (spans + weighted edge pixels, cover()) is computed ONCE, over the zone's own pixel window,
 * when the first tile it meets arrives; each tile then takes the part of it inside the tile as
 * ZonalItems, and the shared accumulation functions (pixel/zonal_items.hpp) run over them for
 * every product plane: value products (indices, dNDVI, a band) and class products (change
 * classes). So the coverage fractions do not depend on the tiling (nor, for shards on the same
 * pixel lattice, on the shard), and the sums are exact fixed-point: tiles and shards in any
 * order give bit-identical counts, sums, means, areas, percentiles and class areas.
 *
 * The results become a ZonalTable (one row per zone, `<product>_<stat>` columns), written as
 * CSV, GeoPackage or JSON; or, with --partial, the raw accumulators go to a partial file that
 * `reclaim merge` combines with others (zonal_partial.hpp).
 */
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "reclaim/coverage.hpp"
#include "reclaim/io/zones.hpp"
#include "reclaim/pixel/zonal.hpp"
#include "reclaim/pixel/zonal_items.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim::io {

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
  std::vector<ZonalHistogram> histograms;      ///< empty unless product.histograms
  std::vector<pixel::ClassAccumulator> classes;  ///< empty unless product.categorical
  /// Square metres per unit of class weight: the pixel area in a projected CRS (whole pixels
  /// count exactly), a fixed area per pixel size in a geographic one. 0 until set by the sink.
  double class_unit_m2 = 0.0;
  /// Hectares of class c in zone z.
  [[nodiscard]] double class_ha(std::size_t z, int c) const noexcept {
    return classes[z].weight(c) * class_unit_m2 * 1e-4;
  }

  /// Empty accumulators for `zones` zones.
  static ProductAccumulators make(ZonalProduct const& product, std::size_t zones);
  /// Exact merge (same product, same zone count; throws input_error otherwise).
  void merge(ProductAccumulators const& other);
};

class ZonalSink final : public TileSink {
 public:
  /// geographic: ellipsoidal cell areas per row (else from the geotransform).
  ZonalSink(Grid const& grid, std::vector<Zone> const& zones, CoverageMode mode, bool geographic,
            std::vector<ZonalProduct> products);
  void write(TileWindow const& window, float const* planes, int plane_count) override;
  [[nodiscard]] std::vector<ZonalProduct> const& products() const noexcept { return m_products; }
  [[nodiscard]] std::vector<ProductAccumulators> const& results() const noexcept { return m_results; }

 private:
  Grid m_grid;
  std::vector<Zone> const& m_zones;
  CoverageMode m_mode;
  bool m_geographic;
  std::vector<ZonalProduct> m_products;
  std::vector<ProductAccumulators> m_results;
  std::vector<pixel::ZonalItem> m_items;  ///< reused per tile
  /// Per zone, computed on first use: its coverage over its own pixel window, and that window.
  std::vector<ZoneCoverage> m_cover;
  std::vector<TileWindow> m_cover_window;
  std::vector<bool> m_covered;
  double m_class_unit_m2 = 0.0;
  std::vector<float> m_threshold_plane;  ///< scratch for threshold products
};

/// Statistic names accepted by --stats for value products: count, nodata_count, area_ha,
/// valid_area_ha, sum, mean, stddev, min, max, median, coverage, pNN (percentile NN).
[[nodiscard]] bool is_zonal_stat(std::string const& name) noexcept;
/// True when a statistic list needs histograms (median or a percentile).
[[nodiscard]] bool needs_histograms(std::vector<std::string> const& stats) noexcept;
/// One value statistic of zone z (NaN when undefined, e.g. no valid pixel).
[[nodiscard]] double value_stat(ProductAccumulators const& acc, std::size_t z, std::string const& name);

/// A table cell: a number (NaN = empty) or text.
using ZonalCell = std::variant<double, std::string>;

/// One row per zone: the id, the zone's attributes, then the metric columns.
struct ZonalTable {
  std::string id_name = "fid";
  std::vector<std::string> attribute_names;
  std::vector<std::string> columns;
  std::vector<std::vector<ZonalCell>> rows;  ///< rows[z][c], one per zone, columns.size() cells
};

/** @brief The table of every product's statistics.
 *
 * Value products: one column `<product>_<stat>` per stat. Class products: `<product>_area_ha`
 * (the zone's covered area), then per class `<product>_<class>_ha` and `<product>_<class>_fraction`
 * (of the covered area, nodata class included), and `<product>_majority` (class value).
 */
[[nodiscard]] ZonalTable zonal_table(std::vector<Zone> const& zones, std::vector<std::string> const& attribute_names,
                                     std::string const& id_name, std::vector<ZonalProduct> const& products,
                                     std::vector<std::string> const& stats,
                                     std::vector<ProductAccumulators> const& results);

/** @brief Writes the table as CSV (.csv), GeoPackage with the zone geometries (.gpkg, layer =
 * file stem, geometries in crs_wkt) or JSON (.json: {"id_field", "columns", "zones": [{...}]}),
 * chosen by the extension. Temporary name, then rename. Throws usage_error for another
 * extension, io_error naming the file when it cannot be written. */
void write_zonal_table(std::filesystem::path const& path, ZonalTable const& table, std::vector<Zone> const& zones,
                       std::string const& crs_wkt);

}  // namespace reclaim::io
