#include "cli/zonal_options.hpp"

#include "cli/common_options.hpp"

#include <ogr_spatialref.h>

#include <sstream>
#include <system_error>

#include "reclaim/error.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

char const* mode_name(CoverageMode mode) {
  switch (mode) {
    case CoverageMode::center: return "center";
    case CoverageMode::all_touched: return "all-touched";
    case CoverageMode::exact: break;
  }
  return "exact";
}

/// A path that still names the zones from another working folder (reclaim merge re-reads them):
/// absolute for a local file; GDAL virtual paths (/vsizip/...) and connection strings as given.
std::string lasting_path(fs::path const& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return path.string();
  auto const absolute = fs::absolute(path, ec);
  return ec ? path.string() : absolute.lexically_normal().string();
}

}  // namespace

void add_zone_options(cxxopts::Options& options, std::string const& stats_option, std::string const& default_stats,
                      std::string const& out_option) {
  auto adder = options.add_options("Zones");
  adder("zones", "zones: any OGR vector source (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)",
        cxxopts::value<std::string>());
  adder("layer", "layer of --zones (default: the first)", cxxopts::value<std::string>());
  adder("id-field", "field holding the zone id (default: the feature id)", cxxopts::value<std::string>());
  adder("strict", "invalid geometries are errors, not repaired");
  adder(stats_option,
        "value statistics: count, nodata_count, area_ha, valid_area_ha, sum, mean, stddev, min, max, median, "
        "coverage, pNN (class rasters always get areas, fractions and the majority)",
        cxxopts::value<std::string>()->default_value(default_stats));
  adder("percentiles", "extra percentiles, e.g. 10,25,75,90", cxxopts::value<std::string>());
  adder("coverage", "exact (pixel fraction inside), center or all-touched",
        cxxopts::value<std::string>()->default_value("exact"));
  adder("histogram-range", "LO,HI of the median/percentile bins (accuracy (HI-LO)/1024)",
        cxxopts::value<std::string>());
  adder("partial", "also write the raw accumulators to this file, for reclaim merge", cxxopts::value<std::string>());
  if (!out_option.empty())
    adder(out_option, "the per-zone table: .csv, .gpkg (with geometries) or .json", cxxopts::value<std::string>());
}

std::optional<ZoneRequest> zone_request_from(OptionValues const& r, std::string const& stats_option,
                                             std::string const& out_option, fs::path const& default_table) {
  if (!r.count("zones")) return std::nullopt;
  ZoneRequest q;
  q.source.path = r["zones"].as<std::string>();
  if (r.count("layer")) q.source.layer = r["layer"].as<std::string>();
  if (r.count("id-field")) q.source.id_field = r["id-field"].as<std::string>();
  q.source.strict = r.count("strict") > 0;
  q.stats = split(r[stats_option].as<std::string>(), ',');
  if (r.count("percentiles"))
    for (auto const& p : split(r["percentiles"].as<std::string>(), ',')) q.stats.push_back("p" + p);
  for (auto const& st : q.stats)
    if (!io::is_zonal_stat(st)) throw usage_error("--" + stats_option + ": unknown statistic '" + st + "'");
  auto const mode = parse_coverage_mode(r["coverage"].as<std::string>());
  if (!mode) throw usage_error("--coverage " + r["coverage"].as<std::string>() + ": expected exact, center or all-touched");
  q.mode = *mode;
  if (r.count("histogram-range")) {
    auto const range = r.numbers("histogram-range");
    if (range.size() != 2) r.refuse("histogram-range", "expected LO,HI");
    if (!(range[1] > range[0])) r.refuse("histogram-range", "HI must exceed LO");
    q.histogram_range = std::pair{range[0], range[1]};
  }
  if (r.count("partial")) q.partial = fs::path(r["partial"].as<std::string>());
  if (!out_option.empty() && r.count(out_option)) q.table = fs::path(r[out_option].as<std::string>());
  else if (!default_table.empty()) q.table = default_table;
  if (!q.table && !q.partial) throw usage_error("--" + (out_option.empty() ? std::string("out") : out_option) +
                                                " (a .csv, .gpkg or .json table) or --partial is required");
  if (q.table) {
    auto ext = q.table->extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext != ".csv" && ext != ".gpkg" && ext != ".json")
      throw usage_error(q.table->string() + ": unknown table format (expected .csv, .gpkg or .json)");
  }
  return q;
}

LoadedZones load_zones(ZoneRequest const& request, std::string const& crs_wkt, EventLog& log) {
  LoadedZones z;
  z.zones = io::read_zones(request.source, crs_wkt, [&log](std::string const& w) { log.warning(w); });
  z.attribute_names = io::zone_attribute_names(request.source);
  z.id_name = request.source.id_field.value_or("fid");
  log.event("zones", {{"count", z.zones.size()}, {"path", request.source.path.string()}},
            std::to_string(z.zones.size()) + " zones from " + request.source.path.string());
  return z;
}

bool is_geographic(std::string const& crs_wkt) {
  if (crs_wkt.empty()) return false;
  OGRSpatialReference srs;
  return srs.importFromWkt(crs_wkt.c_str()) == OGRERR_NONE && srs.IsGeographic() != 0;
}

io::ZonalProduct value_product(std::string name, int plane, ZoneRequest const& request, double lo, double hi) {
  io::ZonalProduct p;
  p.name = std::move(name);
  p.plane = plane;
  p.histograms = io::needs_histograms(request.stats);
  p.histogram_lo = request.histogram_range ? request.histogram_range->first : lo;
  p.histogram_hi = request.histogram_range ? request.histogram_range->second : hi;
  return p;
}

void ZonalResults::add(std::vector<io::ZonalProduct> const& p, std::vector<io::ProductAccumulators> const& r) {
  products.insert(products.end(), p.begin(), p.end());
  results.insert(results.end(), r.begin(), r.end());
}

void write_zonal_results(ZoneRequest const& request, LoadedZones const& zones, ZonalResults const& all,
                         std::string const& crs_wkt, std::vector<io::CoveredWindow> const& covered,
                         std::function<void(fs::path const&)> const& wrote, EventLog& log) {
  if (request.partial) {
    io::ZonalPartial partial;
    partial.id_name = zones.id_name;
    partial.attribute_names = zones.attribute_names;
    for (auto const& z : zones.zones) partial.zones.push_back({z.id, z.attributes, {}, {}, false});
    partial.products = all.products;
    partial.stats = request.stats;
    partial.coverage = mode_name(request.mode);
    partial.crs_wkt = crs_wkt;
    partial.zones_path = lasting_path(request.source.path);
    partial.covered = covered;
    partial.results = all.results;
    io::write_zonal_partial(*request.partial, partial);
    wrote(*request.partial);
  }
  if (request.table) {
    auto const table = io::zonal_table(zones.zones, zones.attribute_names, zones.id_name, all.products,
                                       request.stats, all.results);
    io::write_zonal_table(*request.table, table, zones.zones, crs_wkt, [&log](std::string const& w) { log.warning(w); });
    wrote(*request.table);
  }
}

}  // namespace reclaim::cli
