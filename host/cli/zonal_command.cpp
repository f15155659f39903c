// reclaim zonal: per-site statistics of a raster band, exact coverage, streamed.
#include <cxxopts.hpp>

#include <gdal_priv.h>
#include <ogr_spatialref.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/pass_runner.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/zonal.hpp"
#include "reclaim/io/zones.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_list(std::string const& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

/// What the zonal pass needs to know about the value band beyond its grid.
struct BandFacts {
  bool has_nodata = false;
  double nodata = 0;
  bool geographic = false;
  double lo = -1, hi = 1;  ///< approximate value range (histogram bins)
};

BandFacts band_facts(fs::path const& raster, int band_number, bool want_range) {
  GDALAllRegister();
  GDALDatasetUniquePtr ds(GDALDataset::Open(raster.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!ds) throw input_error(raster.string() + ": not a readable raster");
  if (band_number < 1 || band_number > ds->GetRasterCount())
    throw input_error(raster.string() + ": has " + std::to_string(ds->GetRasterCount()) + " bands, --band " +
                      std::to_string(band_number) + " asked");
  BandFacts f;
  auto* band = ds->GetRasterBand(band_number);
  int has = 0;
  f.nodata = band->GetNoDataValue(&has);
  f.has_nodata = has != 0;
  if (auto const* srs = ds->GetSpatialRef()) f.geographic = srs->IsGeographic() != 0;
  if (want_range) {
    // Overview/sampled min-max: cheap, and values beyond it only move the extreme
    // percentiles to +-inf (documented in docs/zonal.md).
    double minmax[2] = {-1, 1};
    if (band->ComputeRasterMinMax(TRUE, minmax) == CE_None && minmax[1] > minmax[0]) {
      double const margin = 0.01 * (minmax[1] - minmax[0]);
      f.lo = minmax[0] - margin;
      f.hi = minmax[1] + margin;
    }
  }
  return f;
}

}  // namespace

int zonal_main(int argc, char** argv) {
  cxxopts::Options options("reclaim zonal", "Per-zone statistics of a raster band (exact coverage, streamed)");
  options.add_options()
      ("raster", "the value raster", cxxopts::value<std::string>())
      ("band", "band of --raster", cxxopts::value<int>()->default_value("1"))
      ("zones", "zones: any OGR vector source (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)",
       cxxopts::value<std::string>())
      ("layer", "layer of --zones (default: the first)", cxxopts::value<std::string>())
      ("id-field", "field holding the zone id (default: the feature id)", cxxopts::value<std::string>())
      ("stats", "count, nodata_count, area_ha, valid_area_ha, sum, mean, stddev, min, max, median, coverage, pNN",
       cxxopts::value<std::string>()->default_value("count,area_ha,mean,stddev,min,max,median,coverage"))
      ("percentiles", "extra percentiles, e.g. 10,25,75,90", cxxopts::value<std::string>())
      ("coverage", "exact (pixel fraction inside), center or all-touched",
       cxxopts::value<std::string>()->default_value("exact"))
      ("histogram-range", "LO,HI of the median/percentile bins (default: the band's approximate range)",
       cxxopts::value<std::string>())
      ("name", "column prefix (default: the raster's file stem)", cxxopts::value<std::string>())
      ("strict", "invalid geometries are errors, not repaired");
  auto const parsed = parse_raster_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("raster") || !r.count("zones")) throw usage_error("--raster and --zones are required");
  if (!r.count("out")) throw usage_error("--out FILE.csv is required");
  auto const run = run_settings_from(r);
  fs::path const raster = r["raster"].as<std::string>();
  int const band = r["band"].as<int>();

  std::vector<std::string> stats = split_list(r["stats"].as<std::string>());
  if (r.count("percentiles"))
    for (auto const& p : split_list(r["percentiles"].as<std::string>())) stats.push_back("p" + p);
  bool histograms = false;
  for (auto const& st : stats) {
    if (!io::is_zonal_stat(st)) throw usage_error("--stats: unknown statistic '" + st + "'");
    histograms = histograms || st == "median" || st[0] == 'p';
  }
  auto const mode = parse_coverage_mode(r["coverage"].as<std::string>());
  if (!mode) throw usage_error("--coverage " + r["coverage"].as<std::string>() + ": expected exact, center or all-touched");

  EventLog log(run.log_format, run.quiet);
  auto const grid = io::raster_grid(raster);  // input_error naming the file
  auto facts = band_facts(raster, band, histograms && !r.count("histogram-range"));
  if (r.count("histogram-range")) {
    auto const range = split_list(r["histogram-range"].as<std::string>());
    if (range.size() != 2) throw usage_error("--histogram-range: expected LO,HI");
    facts.lo = std::stod(range[0]);
    facts.hi = std::stod(range[1]);
    if (!(facts.hi > facts.lo)) throw usage_error("--histogram-range: HI must exceed LO");
  }

  io::ZoneSource zone_source;
  zone_source.path = r["zones"].as<std::string>();
  if (r.count("layer")) zone_source.layer = r["layer"].as<std::string>();
  if (r.count("id-field")) zone_source.id_field = r["id-field"].as<std::string>();
  zone_source.strict = r.count("strict") > 0;
  auto const zones = io::read_zones(zone_source, grid.crs_wkt, [&log](std::string const& w) { log.warning(w); });
  auto const attribute_names = io::zone_attribute_names(zone_source);

  // The band as a one-band scene: raw values, the file's nodata.
  io::SceneSpec scene;
  scene.input = raster;
  scene.bands[0] = io::BandRef{raster, band};
  scene.calibration[0].has_nodata = facts.has_nodata;
  scene.calibration[0].nodata = static_cast<float>(facts.nodata);
  io::GdalTileSource source(scene, pixel::band_bit(pixel::Band::blue));
  pixel::BandParams pass;
  pass.calibration = scene.calibration[0];

  fs::path const out = r["out"].as<std::string>();
  if (out.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(out.parent_path(), ec);
    if (ec) throw io_error(out.parent_path().string() + ": cannot create output folder (" + ec.message() + ")");
  }
  io::ZonalOptions zo;
  zo.mode = *mode;
  zo.geographic = facts.geographic;
  zo.histograms = histograms;
  zo.histogram_lo = facts.lo;
  zo.histogram_hi = facts.hi;
  io::ZonalSink sink(source.grid(), zones, zo);
  PassRunner runner("zonal", run, cog_options_from(r), log);
  log.event("zones", {{"count", zones.size()}, {"geographic", facts.geographic}},
            std::to_string(zones.size()) + " zones from " + zone_source.path.string());
  // Only tiles (of one block each) that some zone's bounding box meets are read and decoded.
  auto plan = runner.plan(source, pass, /*block_tiles=*/true);
  auto const& gt = plan.grid.geotransform;
  std::erase_if(plan.tiles, [&](TileWindow const& t) {
    double const xa = gt[0] + gt[1] * static_cast<double>(t.x0), xb = xa + gt[1] * t.width;
    double const ya = gt[3] + gt[5] * static_cast<double>(t.y0), yb = ya + gt[5] * t.height;
    double const x0 = std::min(xa, xb), x1 = std::max(xa, xb), y0 = std::min(ya, yb), y1 = std::max(ya, yb);
    return std::none_of(zones.begin(), zones.end(), [&](io::Zone const& z) {
      return !z.parts.empty() && z.bbox[0] <= x1 && z.bbox[2] >= x0 && z.bbox[1] <= y1 && z.bbox[3] >= y0;
    });
  });
  runner.run_to_sink("zonal", source, pass, plan, sink);
  std::string const product = r.count("name") ? r["name"].as<std::string>() : raster.stem().string();
  std::string const id_name = zone_source.id_field.value_or("fid");
  io::write_zonal_csv(out, zones, attribute_names, id_name, product, stats, sink.stats());
  runner.wrote(out);
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
