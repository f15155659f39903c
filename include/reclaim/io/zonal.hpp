#pragma once
/** @file
 * @brief Per-zone result tables: the statistics of every product of a pass (accumulated by the
 * backends, reclaim/zonal_work.hpp) as one row per zone with `<product>_<stat>` columns, written
 * as CSV, GeoPackage or JSON. With --partial the raw accumulators go to a partial file instead,
 * which `reclaim merge` combines with others (zonal_partial.hpp).
 */
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "reclaim/io/zones.hpp"
#include "reclaim/zonal_work.hpp"

namespace reclaim::io {

// The products, accumulators and statistics are the engine's (reclaim/zonal_work.hpp).
using reclaim::is_zonal_stat;
using reclaim::kZonalBins;
using reclaim::needs_histograms;
using reclaim::ProductAccumulators;
using reclaim::value_stat;
using reclaim::ZonalHistogram;
using reclaim::ZonalProduct;

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

/** @brief Gives each zone attribute whose name is the id column's, an output column's or an
 * earlier attribute's (ignoring case, as GeoPackage does) the prefix `attr_` (`attr2_`, ... while
 * still taken), so that no table has two columns of one name (a sites file with its own
 * `area_ha` field made a CSV with two `area_ha` headers and a GeoPackage error). Returns the
 * (original, written) names of the renamed attributes. */
std::vector<std::pair<std::string, std::string>> rename_clashing_attributes(ZonalTable& table);

/** @brief Writes the table as CSV (.csv), GeoPackage with the zone geometries (.gpkg, layer =
 * file stem, geometries in crs_wkt) or JSON (.json: {"id_field", "columns", "zones": [{...}]}),
 * chosen by the extension, its attributes renamed by rename_clashing_attributes (each rename
 * told to `warn`). Temporary name, then rename. Throws usage_error for another extension,
 * io_error naming the file when it cannot be written. */
void write_zonal_table(std::filesystem::path const& path, ZonalTable table, std::vector<Zone> const& zones,
                       std::string const& crs_wkt, std::function<void(std::string const&)> const& warn = {});

}  // namespace reclaim::io
