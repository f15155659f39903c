// reclaim change: two epochs in one pass -> change classes, dNDVI and optional per-epoch indices.
#include <cxxopts.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/change_inputs.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/cpus.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/rules.hpp"
#include "reclaim/pixel/change_pass.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

io::OutputRaster change_class_output(fs::path path, ChangeInputs const& in) {
  io::OutputRaster classes;
  classes.path = std::move(path);
  classes.description = "change class " + in.before.label + " -> " + in.after.label;
  classes.categorical = true;
  classes.category_names = in.scheme.category_names();
  classes.colors = in.scheme.colors();
  classes.metadata = {{"RECLAIM_PRODUCT", "change_class"},
                      {"RECLAIM_BEFORE", in.before_epoch.scene.input.string()},
                      {"RECLAIM_AFTER", in.after_epoch.scene.input.string()},
                      {"RECLAIM_VERSION", RECLAIM_VERSION},
                      {"RECLAIM_BEFORE_MASK", in.before_epoch.scene.mask_text},
                      {"RECLAIM_AFTER_MASK", in.after_epoch.scene.mask_text}};
  for (int i = 0; i < in.scheme.rules.size(); ++i)
    classes.metadata.emplace_back("RECLAIM_RULE_" + std::to_string(i + 1),
                                  io::describe_rule(in.scheme, in.scheme.rules.rule(i)));
  return classes;
}

namespace {

/// A Float32 product of both epochs: its name, the scenes and masks, and what NaN means.
io::OutputRaster two_epoch_output(fs::path path, ChangeInputs const& in, std::string const& product,
                                  std::string description) {
  io::OutputRaster o;
  o.path = std::move(path);
  o.description = std::move(description);
  o.metadata = {{"RECLAIM_PRODUCT", product},
                {"RECLAIM_BEFORE", in.before_epoch.scene.input.string()},
                {"RECLAIM_AFTER", in.after_epoch.scene.input.string()},
                {"RECLAIM_VERSION", RECLAIM_VERSION},
                {"RECLAIM_BEFORE_MASK", in.before_epoch.scene.mask_text},
                {"RECLAIM_AFTER_MASK", in.after_epoch.scene.mask_text},
                {"RECLAIM_NODATA", in.before_epoch.scene.mask_text == "none" && in.after_epoch.scene.mask_text == "none"
                                       ? "NaN: no data in either epoch (no quality mask was applied)"
                                       : "NaN: no data or masked (RECLAIM_BEFORE_MASK, RECLAIM_AFTER_MASK) in "
                                         "either epoch"}};
  return o;
}

}  // namespace

io::OutputRaster dndvi_output(fs::path path, ChangeInputs const& in) {
  return two_epoch_output(std::move(path), in, "dndvi", "dNDVI = NDVI " + in.after.label + " - NDVI " + in.before.label);
}

io::OutputRaster magnitude_output(fs::path path, ChangeInputs const& in) {
  return two_epoch_output(std::move(path), in, "change_magnitude",
                          "change-vector magnitude " + in.before.label + " -> " + in.after.label +
                              " (standardised bands)");
}

io::OutputRaster direction_output(fs::path path, ChangeInputs const& in) {
  auto o = two_epoch_output(std::move(path), in, "change_direction",
                            "change direction " + in.before.label + " -> " + in.after.label +
                                " (sector of the standardised red-NIR change)");
  o.categorical = true;
  o.category_names.assign(256, "");
  o.colors.assign(256, {0, 0, 0, 0});
  auto const set = [&](int code, char const* name, std::array<std::uint8_t, 4> rgba) {
    o.category_names[static_cast<std::size_t>(code)] = name;
    o.colors[static_cast<std::size_t>(code)] = rgba;
  };
  set(0, "no data", {0, 0, 0, 0});
  set(pixel::kDirectionGreening, "greening (NIR up, red down)", {26, 152, 80, 255});
  set(pixel::kDirectionBrightening, "brightening (NIR and red up)", {254, 224, 139, 255});
  set(pixel::kDirectionBrowning, "browning (NIR down, red up)", {215, 48, 39, 255});
  set(pixel::kDirectionDarkening, "darkening (NIR and red down)", {69, 117, 180, 255});
  for (auto& [key, value] : o.metadata)
    if (key == "RECLAIM_NODATA") value = "0: " + value.substr(5);  // a class raster: 0, not NaN
  return o;
}

int change_main(int argc, char** argv) {
  cxxopts::Options options("reclaim change",
                           "Change classes and dNDVI between two epochs, from one read of each pixel");
  add_change_input_options(options);
  options.add_options()
      ("index", "also write these indices of each epoch (e.g. ndvi,bsi); default none",
       cxxopts::value<std::string>());
  add_change_vector_options(options);
  add_zone_options(options, "zone-stats", "count,area_ha,mean,stddev,min,max,median,coverage", "zones-out");
  auto const parsed = parse_raster_command(options, argc, argv, index_help());
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("before") || !r.count("after")) throw usage_error("--before and --after are required");
  if (!r.count("out")) throw usage_error("--out DIR is required");
  std::vector<pixel::Index> extra;
  if (r.count("index")) extra = parse_index_list(lower(r["index"].as<std::string>()));
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);

  EventLog log(run.log_format, run.quiet);
  auto in = prepare_change_inputs(r, extra, /*year_labels=*/false);
  auto const vector_request = change_vector_request(r, in);
  auto& params = in.params;

  fs::path const out_dir = output_folder(r);
  auto const planes = change_planes(in, extra, out_dir);

  // --zones: class areas per site and statistics of dNDVI and every index, in the same pass.
  auto const zone_request = zone_request_from(r, "zone-stats", "zones-out", out_dir / "zonal.csv");
  auto const& grid = in.grid();
  PassRunner runner("change", run, cog, log);
  PassLayout layout;
  layout.label = in.before.label + "->" + in.after.label;
  layout.source = in.source.get();
  layout.inputs = in.files();
  layout.pass = params;
  layout.plan = runner.plan(*in.source, params);
  layout.outputs = planes.outputs;
  layout.plane_names = planes.names;
  std::optional<LoadedZones> zones;
  std::optional<ZonalWork> work;
  if (zone_request) {
    zones = load_zones(*zone_request, grid.crs_wkt, log);
    work = runner.zonal_work(layout.plan, zones->zones, zone_request->mode, is_geographic(grid.crs_wkt),
                             change_zonal_products(in, planes, *zone_request));
    layout.zonal = &*work;
    layout.inputs.push_back(zone_request->source.path);
    if (zone_request->table) layout.tables.push_back(*zone_request->table);
    if (zone_request->partial) layout.tables.push_back(*zone_request->partial);
  }
  auto const claimed = runner.claim_outputs(out_dir, {&layout});
  log_epoch(log, in.before_epoch, *in.before_source);  // once the run is checked: a refused run has only its error
  log_epoch(log, in.after_epoch, *in.after_source);
  if (runner.dry_run()) {
    runner.describe(layout);
    return 0;
  }
  // The magnitude's standardisation and threshold: two reads before the pass; they set the rules.
  auto const vector_metadata = prepare_change_vector(in, vector_request, layout.plan.tiles, thread_count(run.threads), log);
  if (!vector_metadata.empty()) {
    layout.pass = params;
    for (auto& o : layout.outputs) {
      if (o.path.filename() == "change_class.tif") {  // the rules as run
        int const plane = o.plane;
        o = change_class_output(o.path, in);
        o.plane = plane;
      }
      if (o.path.filename() == "change_class.tif" || o.path.filename() == "change_magnitude.tif" ||
          o.path.filename() == "change_direction.tif")
        o.metadata.insert(o.metadata.end(), vector_metadata.begin(), vector_metadata.end());
    }
  }
  auto const stats = runner.run(layout);
  if (work) {
    runner.finishing(layout.label, "zonal tables");
    ZonalResults zonal;
    zonal.add(work->products, stats.zonal);
    write_zonal_results(*zone_request, *zones, zonal, grid.crs_wkt,
                        {io::whole_grid(layout.plan.grid,
                                        {in.before_epoch.scene.input.string(), in.after_epoch.scene.input.string()})},
                        [&runner](fs::path const& p) { runner.wrote(p); }, log);
  }
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
