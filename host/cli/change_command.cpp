// reclaim change: two epochs in one pass -> change classes, dNDVI and optional per-epoch indices.
#include <cxxopts.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/rules.hpp"
#include "reclaim/pixel/change_pass.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

/// Bands the default and custom change rules can read: NDVI, BSI, MNDWI and FVC of an epoch.
constexpr std::uint32_t kChangeBands = pixel::bands_needed(pixel::Index::ndvi) | pixel::bands_needed(pixel::Index::bsi) |
                                       pixel::bands_needed(pixel::Index::mndwi);

io::SensorOptions epoch_sensor(io::SensorOptions base, cxxopts::ParseResult const& r, char const* option) {
  if (!r.count(option)) return base;
  auto const sensor = io::parse_sensor(r[option].as<std::string>());
  if (!sensor) throw usage_error(std::string("--") + option + " " + r[option].as<std::string>() + ": unknown sensor");
  base.sensor = *sensor;
  return base;
}

/// The after epoch's planes follow the before epoch's in the combined tile.
void shift_planes(pixel::FusedParams& p, int offset) {
  for (auto& plane : p.band_plane)
    if (plane >= 0) plane += offset;
  if (p.mask_plane >= 0) p.mask_plane += offset;
}

}  // namespace

int change_main(int argc, char** argv) {
  cxxopts::Options options("reclaim change",
                           "Change classes and dNDVI between two epochs, from one read of each pixel");
  options.add_options()
      ("before", "the earlier scene: multiband file or product folder, optionally LABEL=PATH",
       cxxopts::value<std::string>())
      ("after", "the later scene; resampled on the fly onto the earlier scene's grid when they differ",
       cxxopts::value<std::string>())
      ("before-sensor", "sensor of the earlier scene (default: --sensor)", cxxopts::value<std::string>())
      ("after-sensor", "sensor of the later scene (default: --sensor)", cxxopts::value<std::string>())
      ("target-grid", "a raster whose grid (extent, pixel size, CRS) both epochs are read onto; default: the "
                      "before scene's", cxxopts::value<std::string>())
      ("rules", "rules file (JSON or TOML) changing thresholds or adding classes (docs/change.md)",
       cxxopts::value<std::string>())
      ("index", "also write these indices of each epoch (e.g. ndvi,bsi); default none",
       cxxopts::value<std::string>());
  add_zone_options(options, "zone-stats", "count,area_ha,mean,stddev,min,max,median,coverage", "zones-out");
  auto const parsed = parse_raster_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("before") || !r.count("after")) throw usage_error("--before and --after are required");
  if (!r.count("out")) throw usage_error("--out DIR is required");
  std::vector<pixel::Index> extra;
  if (r.count("index")) extra = parse_index_list(lower(r["index"].as<std::string>()));
  auto const base = sensor_options_from(r);
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);
  auto const index_params = index_params_from(r);
  auto const scheme = r.count("rules") ? io::load_change_rules(r["rules"].as<std::string>()) : io::default_change_scheme();

  EventLog log(run.log_format, run.quiet);
  LabeledPath before = parse_labeled_path(r["before"].as<std::string>());
  LabeledPath after = parse_labeled_path(r["after"].as<std::string>());
  if (before.label.empty()) before.label = "before";
  if (after.label.empty()) after.label = "after";
  if (before.label == after.label) throw usage_error("--before and --after share the label '" + before.label + "'");

  std::uint32_t needed = kChangeBands;
  for (auto index : extra) needed |= pixel::bands_needed(index);
  // What the rules read and what was asked for; a missing band is named with its index.
  std::vector<pixel::Index> rule_indices = extra;
  for (auto index : {pixel::Index::ndvi, pixel::Index::bsi, pixel::Index::mndwi}) rule_indices.push_back(index);
  auto const before_sensor = epoch_sensor(base, r, "before-sensor");
  auto const after_sensor = epoch_sensor(base, r, "after-sensor");
  auto const before_scene = io::resolve_scene(before.label, before.path, before_sensor);
  auto const after_scene = io::resolve_scene(after.label, after.path, after_sensor);
  io::require_bands(before_scene, rule_indices);
  io::require_bands(after_scene, rule_indices);
  // Both epochs are read onto the target grid, by default the before epoch's own (warped on
  // the fly where a scene's grid differs).
  std::optional<Grid> target;
  if (r.count("target-grid")) target = io::raster_grid(r["target-grid"].as<std::string>());
  io::GdalTileSource before_source(before_scene, needed, target);
  io::GdalTileSource after_source(after_scene, needed, before_source.grid());
  CompositeTileSource source({&before_source, &after_source});

  pixel::ChangeParams params;
  params.before = before_source.fused_params();
  params.after = after_source.fused_params();
  shift_planes(params.after, params.before.input_plane_count);
  params.before.index_params = params.after.index_params = index_params;
  params.rules = scheme.rules;

  fs::path const out_dir = output_folder(r);
  std::vector<io::OutputRaster> outputs;
  io::OutputRaster classes;
  classes.path = out_dir / "change_class.tif";
  classes.description = "change class " + before.label + " -> " + after.label;
  classes.categorical = true;
  classes.category_names = scheme.category_names();
  classes.colors = scheme.colors();
  classes.metadata = {{"RECLAIM_PRODUCT", "change_class"},
                      {"RECLAIM_BEFORE", before_scene.input.string()},
                      {"RECLAIM_AFTER", after_scene.input.string()},
                      {"RECLAIM_VERSION", RECLAIM_VERSION}};
  for (int i = 0; i < scheme.rules.size(); ++i)
    classes.metadata.emplace_back("RECLAIM_RULE_" + std::to_string(i + 1), io::describe_rule(scheme, scheme.rules.rule(i)));
  outputs.push_back(classes);
  io::OutputRaster dndvi;
  dndvi.path = out_dir / "dndvi.tif";
  dndvi.description = "dNDVI = NDVI " + after.label + " - NDVI " + before.label;
  dndvi.metadata = {{"RECLAIM_PRODUCT", "dndvi"},
                    {"RECLAIM_BEFORE", before_scene.input.string()},
                    {"RECLAIM_AFTER", after_scene.input.string()},
                    {"RECLAIM_VERSION", RECLAIM_VERSION},
                    {"RECLAIM_NODATA", "NaN: no data or masked in either epoch"}};
  outputs.push_back(dndvi);
  for (auto* epoch : {&params.before, &params.after}) {
    auto const& label = epoch == &params.before ? before.label : after.label;
    auto const& scene = epoch == &params.before ? before_scene : after_scene;
    auto const sensor = epoch == &params.before ? before_sensor.sensor : after_sensor.sensor;
    for (auto index : extra) {
      epoch->outputs[epoch->output_count++] = index;
      outputs.push_back(index_output(out_dir / (label + "_" + std::string(index_name(index)) + ".tif"), index, sensor,
                                     scene.input));
    }
  }

  // --zones: class areas per site and statistics of dNDVI and every index, in the same pass.
  auto const zone_request = zone_request_from(r, "zone-stats", "zones-out", out_dir / "zonal.csv");
  std::optional<LoadedZones> zones;
  std::optional<io::ZonalSink> sink;
  auto const& grid = before_source.grid();
  if (zone_request) {
    zones = load_zones(*zone_request, grid.crs_wkt, log);
    std::vector<io::ZonalProduct> products;
    io::ZonalProduct cls;
    cls.name = "change_class";
    cls.plane = 0;
    cls.categorical = true;
    cls.class_names = scheme.category_names();
    products.push_back(cls);
    products.push_back(value_product("dndvi", 1, *zone_request, -2.0, 2.0 + 1e-9));
    int plane = 2;
    for (auto const* epoch : {&params.before, &params.after}) {
      auto const& label = epoch == &params.before ? before.label : after.label;
      for (int k = 0; k < epoch->output_count; ++k, ++plane) {
        auto const [lo, hi] = index_value_range(epoch->outputs[k]);
        products.push_back(value_product(label + "_" + std::string(index_name(epoch->outputs[k])), plane,
                                         *zone_request, lo, hi));
      }
    }
    sink.emplace(grid, zones->zones, zone_request->mode, is_geographic(grid.crs_wkt), products);
  }
  PassRunner runner("change", run, cog, log);
  runner.run(before.label + "->" + after.label, source, params, outputs, sink ? &*sink : nullptr);
  if (sink) {
    ZonalResults zonal;
    zonal.add(*sink);
    write_zonal_results(*zone_request, *zones, zonal, grid.crs_wkt,
                        {before_scene.input.string(), after_scene.input.string()},
                        [&runner](fs::path const& p) { runner.wrote(p); });
  }
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
