// reclaim zonal: per-site statistics of a raster band, exact coverage, streamed.
#include <cxxopts.hpp>

#include <limits>

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
#include "cli/zonal_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/zonal.hpp"
#include "reclaim/io/zones.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

/// What the zonal pass needs to know about the band beyond its grid.
struct BandFacts {
  bool has_nodata = false;
  double nodata = 0;
  bool categorical = false;              ///< a colour table or category names
  std::vector<std::string> class_names;  ///< index = class value
  double lo = -1, hi = 1;                ///< approximate value range (histogram bins)
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
  if (char** names = band->GetCategoryNames()) {
    for (int i = 0; names[i] && i < 256; ++i) f.class_names.emplace_back(names[i]);
    f.categorical = true;
  }
  if (band->GetColorTable()) f.categorical = true;
  if (want_range && !f.categorical) {
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
      ("raster", "the value or class raster", cxxopts::value<std::string>())
      ("band", "band of --raster", cxxopts::value<std::string>()->default_value("1"))
      ("classes", "treat the band as classes (automatic with a colour table or category names)")
      ("values", "treat the band as values even with a colour table")
      ("name", "column prefix (default: the raster's file stem)", cxxopts::value<std::string>());
  add_zone_options(options, "stats", "count,area_ha,mean,stddev,min,max,median,coverage", "");
  auto const parsed = parse_raster_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("raster") || !r.count("zones")) throw usage_error("--raster and --zones are required");
  auto const run = run_settings_from(r);
  fs::path const raster = r["raster"].as<std::string>();
  int const band = r.integer("band", 1, std::numeric_limits<int>::max());
  // Here --out is the table itself (other commands write it into their output folder).
  auto const request =
      *zone_request_from(r, "stats", "", r.count("out") ? fs::path(r["out"].as<std::string>()) : fs::path());
  bool const histograms = io::needs_histograms(request.stats);
  if (request.partial && histograms && !request.histogram_range)
    throw usage_error("--partial with a median or percentiles needs --histogram-range LO,HI, so that every shard "
                      "bins alike");

  EventLog log(run.log_format, run.quiet);
  auto const grid = io::raster_grid(raster);  // input_error naming the file
  auto facts = band_facts(raster, band, histograms && !request.histogram_range);
  if (r.count("classes")) facts.categorical = true;
  if (r.count("values")) facts.categorical = false;
  auto const zones = load_zones(request, grid.crs_wkt, log);

  // The band as a one-band scene: raw values, the file's nodata.
  io::SceneSpec scene;
  scene.input = raster;
  scene.bands[0] = io::BandRef{raster, band};
  scene.calibration[0].has_nodata = facts.has_nodata;
  scene.calibration[0].nodata = static_cast<float>(facts.nodata);
  io::GdalTileSource source(scene, pixel::band_bit(pixel::Band::blue));
  pixel::BandParams pass;
  pass.calibration = scene.calibration[0];

  std::string const product_name = r.count("name") ? r["name"].as<std::string>() : raster.stem().string();
  io::ZonalProduct product = value_product(product_name, 0, request, facts.lo, facts.hi);
  if (facts.categorical) {
    product.categorical = true;
    product.histograms = false;
    product.class_names = facts.class_names;
  }
  bool const geographic = is_geographic(grid.crs_wkt);
  PassRunner runner("zonal", run, cog_options_from(r), log);
  // Only tiles (of one block each) that some zone's bounding box meets are read and decoded.
  PassLayout layout;
  layout.label = "zonal";
  layout.source = &source;
  layout.inputs = {raster, request.source.path};
  layout.pass = pass;
  layout.plan = runner.plan(source, pass, /*tile_pixels=*/1);  // one block each
  layout.plane_names = {product_name};
  std::erase_if(layout.plan.tiles, [&](TileWindow const& t) {
    auto const box = window_bounds(layout.plan.grid, t);
    return std::none_of(zones.zones.begin(), zones.zones.end(),
                        [&](io::Zone const& z) { return !z.parts.empty() && overlaps(z.bbox, box); });
  });
  auto const work = runner.zonal_work(layout.plan, zones.zones, request.mode, geographic, {product});
  layout.zonal = &work;
  if (request.table) layout.tables.push_back(*request.table);
  if (request.partial) layout.tables.push_back(*request.partial);
  auto const claimed = runner.claim_outputs({}, {&layout});  // --out is the table itself
  if (runner.dry_run()) {
    runner.describe(layout);
    return 0;
  }
  auto const stats = runner.run(layout);
  runner.finishing(layout.label, "zonal tables");
  ZonalResults results;
  results.add(work.products, stats.zonal);
  write_zonal_results(request, zones, results, grid.crs_wkt, {io::whole_grid(layout.plan.grid, {raster.string()})},
                      [&runner](fs::path const& p) { runner.wrote(p); }, log);
  runner.done();
  return 0;
}

/// reclaim merge: partial results of the same zones (shards) -> one table.
int merge_main(int argc, char** argv) {
  // `reclaim merge RUN/`: the units of a national run (national_command.cpp).
  for (int k = 1; k < argc; ++k)
    if (argv[k][0] != '-' && std::filesystem::is_directory(argv[k]) &&
        std::filesystem::exists(std::filesystem::path(argv[k]) / "plan.json"))
      return national_merge_main(argc, argv);
  cxxopts::Options options("reclaim merge",
                           "Merge partial zonal results (reclaim zonal --partial) exactly into one table");
  options.add_options()
      ("partials", "partial files", cxxopts::value<std::vector<std::string>>())
      ("out", "the merged table: .csv, .json, or .gpkg (geometries re-read from the zones file)",
       cxxopts::value<std::string>())
      ("partial", "also write the merged accumulators (a partial of partials)", cxxopts::value<std::string>())
      ("zones", "the zones file for .gpkg output (default: the path recorded in the partials)",
       cxxopts::value<std::string>())
      ("log-format", "text or json", cxxopts::value<std::string>()->default_value("text"))
      ("quiet", "no progress or info lines")
      ("h,help", "this help");
  add_overwrite_option(options);
  options.parse_positional({"partials"});
  options.positional_help("PARTIAL...");
  auto const r = options.parse(argc, argv);
  if (r.count("help")) {
    std::puts(options.help().c_str());
    return 0;
  }
  if (!r.unmatched().empty()) throw usage_error("unexpected argument '" + r.unmatched().front() + "'");
  if (!r.count("partials")) throw usage_error("give the partial files to merge");
  if (!r.count("out") && !r.count("partial")) throw usage_error("--out TABLE or --partial FILE is required");
  auto const format = r["log-format"].as<std::string>();
  if (format != "text" && format != "json") throw usage_error("--log-format: expected text or json");
  EventLog log(format == "json" ? LogFormat::json : LogFormat::text, r.count("quiet") > 0);

  auto const names = r["partials"].as<std::vector<std::string>>();
  std::vector<io::ZonalPartial> parts;
  for (auto const& n : names) parts.push_back(io::read_zonal_partial(n));
  auto merged = io::merge_zonal_partials(parts, names);
  log.event("merge", {{"partials", names.size()}, {"zones", merged.zones.size()}},
            "merged " + std::to_string(names.size()) + " partials of " + std::to_string(merged.zones.size()) + " zones");
  // Refuse before anything is written: an output must not replace a partial or the zones it re-reads.
  std::vector<fs::path> outputs, inputs(names.begin(), names.end());
  if (r.count("partial")) outputs.emplace_back(r["partial"].as<std::string>());
  if (r.count("out")) outputs.emplace_back(r["out"].as<std::string>());
  inputs.emplace_back(r.count("zones") ? r["zones"].as<std::string>() : merged.zones_path);
  refuse_overwriting_inputs(outputs, inputs);
  if (outputs.size() == 2) refuse_overwriting_inputs({outputs[0]}, {outputs[1]});
  auto const claimed = claim_outputs({{}, outputs, 0}, r.count("overwrite") > 0);
  std::vector<fs::path> written;
  if (r.count("partial")) {
    fs::path const p = r["partial"].as<std::string>();
    io::write_zonal_partial(p, merged);
    written.push_back(p);
  }
  if (r.count("out")) {
    fs::path const out = r["out"].as<std::string>();
    auto zones = merged.zones;
    if (lower(out.extension().string()) == ".gpkg") {
      // Geometries are not in partials: re-read them, and check they are the same zones.
      io::ZoneSource src;
      src.path = r.count("zones") ? r["zones"].as<std::string>() : merged.zones_path;
      if (merged.id_name != "fid") src.id_field = merged.id_name;
      auto geo = io::read_zones(src, merged.crs_wkt, [&log](std::string const& w) { log.warning(w); });
      if (geo.size() != zones.size())
        throw input_error(src.path.string() + ": has " + std::to_string(geo.size()) + " zones, the partials " +
                          std::to_string(zones.size()));
      for (std::size_t z = 0; z < geo.size(); ++z)
        if (geo[z].id != zones[z].id)
          throw input_error(src.path.string() + ": zone " + std::to_string(z) + " is '" + geo[z].id +
                            "', the partials have '" + zones[z].id + "'");
      zones = std::move(geo);
    }
    auto const table = io::zonal_table(zones, merged.attribute_names, merged.id_name, merged.products, merged.stats,
                                       merged.results);
    io::write_zonal_table(out, table, zones, merged.crs_wkt, [&log](std::string const& w) { log.warning(w); });
    written.push_back(out);
  }
  for (auto const& p : written) {
    log.event("output", {{"path", p.string()}});
    std::printf("%s\n", p.string().c_str());
  }
  log.event("done", {{"outputs", written.size()}});
  return 0;
}

}  // namespace reclaim::cli
