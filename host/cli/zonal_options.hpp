#pragma once
// The zone options every command with per-site statistics shares (zonal, indices, change,
// assess): reading the zones, building the sink, writing the table or the partial file.
#include <cxxopts.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/option_values.hpp"
#include "cli/logging.hpp"
#include "reclaim/io/zonal.hpp"
#include "reclaim/io/zonal_partial.hpp"
#include "reclaim/io/zones.hpp"
#include "reclaim/pixel/fused.hpp"

namespace reclaim::cli {

/// Adds --zones, --layer, --id-field, --strict, --coverage, --percentiles, --histogram-range and
/// --partial; `stats_option` ("stats" or "zone-stats") names the statistics option, whose default
/// is `default_stats`; `out_option` ("" when --out is the table) names the table's option.
void add_zone_options(cxxopts::Options& options, std::string const& stats_option, std::string const& default_stats,
                      std::string const& out_option);

struct ZoneRequest {
  io::ZoneSource source;
  std::vector<std::string> stats;
  CoverageMode mode = CoverageMode::exact;
  std::optional<std::pair<double, double>> histogram_range;
  std::optional<std::filesystem::path> table;    ///< CSV / GPKG / JSON
  std::optional<std::filesystem::path> partial;  ///< raw accumulators for reclaim merge
};

/// The request when --zones is given (nullopt otherwise); usage_error for a bad value.
/// `default_table`: where the table goes when the out option is not given (empty: required).
[[nodiscard]] std::optional<ZoneRequest> zone_request_from(OptionValues const& r, std::string const& stats_option,
                                                           std::string const& out_option,
                                                           std::filesystem::path const& default_table);

struct LoadedZones {
  std::vector<io::Zone> zones;
  std::vector<std::string> attribute_names;
  std::string id_name;
};

/// Reads and reprojects the zones to crs_wkt; warnings go to the log.
[[nodiscard]] LoadedZones load_zones(ZoneRequest const& request, std::string const& crs_wkt, EventLog& log);

/// True for a geographic CRS (cell areas per row on the ellipsoid).
[[nodiscard]] bool is_geographic(std::string const& crs_wkt);

/// A value product over a plane, with the request's histogram range (default: lo..hi).
[[nodiscard]] io::ZonalProduct value_product(std::string name, int plane, ZoneRequest const& request, double lo,
                                             double hi);

/// Products and results of one or more finished sinks (several passes, one table).
struct ZonalResults {
  std::vector<io::ZonalProduct> products;
  std::vector<io::ProductAccumulators> results;
  void add(std::vector<io::ZonalProduct> const& p, std::vector<io::ProductAccumulators> const& r);
};

/// Writes the table and/or the partial file (which records `covered`: the grids the passes
/// accumulated and the rasters they read); records them with `wrote`, warns in `log`.
void write_zonal_results(ZoneRequest const& request, LoadedZones const& zones, ZonalResults const& results,
                         std::string const& crs_wkt, std::vector<io::CoveredWindow> const& covered,
                         std::function<void(std::filesystem::path const&)> const& wrote, EventLog& log);

}  // namespace reclaim::cli
