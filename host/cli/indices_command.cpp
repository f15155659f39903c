// reclaim indices: one fused pass per epoch, one COG per requested index.
#include <cxxopts.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/epoch_inputs.hpp"
#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/scheduler.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

/// <out>/<index>.tif for a single unlabeled input, <out>/<label>_<index>.tif otherwise.
fs::path output_path(fs::path const& out_dir, std::string const& label, pixel::Index index) {
  std::string const name = std::string(index_name(index)) + ".tif";
  return out_dir / (label.empty() ? name : label + "_" + name);
}

}  // namespace

int indices_main(int argc, char** argv) {
  cxxopts::Options options("reclaim indices", "Spectral indices of one or more scenes, one Cloud-Optimized GeoTIFF each");
  options.add_options()
      ("input", "an epoch: multiband file, product folder or scene inventory (STAC JSON, CSV: composited), "
                "optionally LABEL=PATH; repeat for several epochs",
       cxxopts::value<std::vector<std::string>>())
      ("index", "indices: " + index_name_list(), cxxopts::value<std::string>()->default_value("ndvi"));
  add_epoch_options(options);
  add_zone_options(options, "zone-stats", "count,area_ha,mean,stddev,min,max,median,coverage", "zones-out");
  auto const parsed = parse_raster_command(options, argc, argv, index_help());
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("out")) throw usage_error("--out DIR is required");
  auto const indices = parse_index_list(lower(r["index"].as<std::string>()));
  auto const sensor = sensor_options_from(r);
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);
  auto const index_params = index_params_from(r);

  std::vector<LabeledPath> inputs;
  if (r.count("input"))
    for (auto const& s : r["input"].as<std::vector<std::string>>()) inputs.push_back(parse_labeled_path(s));
  if (inputs.empty()) {
    if (sensor.band_specs.empty()) throw usage_error("--input is required (or --bands role=FILE,...)");
    inputs.push_back({"", ""});
  }
  if (inputs.size() > 1)
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].label.empty()) inputs[i].label = inputs[i].path.stem().string();
  for (std::size_t i = 0; i < inputs.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (inputs[i].label == inputs[j].label)
        throw usage_error("two inputs share the label '" + inputs[i].label + "': name them LABEL=PATH");

  EventLog log(run.log_format, run.quiet);
  // Resolve every epoch before any output exists: a bad input fails fast.
  std::vector<Epoch> epochs;
  std::uint32_t needed = 0;
  for (auto index : indices) needed |= pixel::bands_needed(index);
  std::vector<std::unique_ptr<io::EpochSource>> sources;
  for (auto const& in : inputs) {
    epochs.push_back(resolve_epoch(in.label, in.path, sensor, r));
    io::require_bands(epochs.back().scene, indices);
  }
  check_epoch_options_used(r, epochs);
  for (auto const& epoch : epochs) sources.push_back(open_epoch(epoch, needed));

  fs::path const out_dir = output_folder(r);
  // --zones: statistics of every index of every epoch, from the same pass (no second read).
  auto const zone_request = zone_request_from(r, "zone-stats", "zones-out", out_dir / "zonal.csv");
  std::optional<LoadedZones> zones;
  if (zone_request) zones = load_zones(*zone_request, sources.front()->grid().crs_wkt, log);
  ZonalResults zonal;
  std::vector<io::CoveredWindow> covered;  // one grid per epoch
  PassRunner runner("indices", run, cog, log);
  // Every pass is laid out before the first runs: the outputs of all of them are claimed at once.
  std::vector<PassLayout> layouts(epochs.size());
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    auto const& scene = epochs[e].scene;
    auto params = sources[e]->fused_params();
    params.index_params = index_params;
    std::vector<io::OutputRaster> outputs;
    for (auto index : indices) {
      params.outputs[params.output_count++] = index;
      outputs.push_back(index_output(output_path(out_dir, scene.label, index), index, scene));
    }
    auto& layout = layouts[e];
    layout.label = scene.label.empty() ? "indices" : scene.label;
    layout.source = sources[e].get();
    layout.inputs = epochs[e].files();
    layout.pass = params;
    layout.plan = runner.plan(*sources[e], params);
    layout.outputs = outputs;
    for (int k = 0; k < params.output_count; ++k) layout.plane_names.emplace_back(index_name(params.outputs[k]));
    if (zones) {
      layout.inputs.push_back(zone_request->source.path);
      if (zone_request->table) layout.tables.push_back(*zone_request->table);
      if (zone_request->partial) layout.tables.push_back(*zone_request->partial);
    }
  }
  std::vector<PassLayout const*> all;
  for (auto const& l : layouts) all.push_back(&l);
  auto const claimed = runner.claim_outputs(out_dir, all);
  for (std::size_t e = 0; e < epochs.size(); ++e) log_epoch(log, epochs[e], *sources[e]);  // a refused run has only its error
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    auto const& scene = epochs[e].scene;
    auto& layout = layouts[e];
    auto const& params = std::get<pixel::FusedParams>(layout.pass);
    std::optional<ZonalWork> work;
    if (zones) {
      std::vector<io::ZonalProduct> products;
      for (int k = 0; k < params.output_count; ++k) {
        auto const [lo, hi] = index_value_range(params.outputs[k]);
        std::string name(index_name(params.outputs[k]));
        if (!scene.label.empty()) name = scene.label + "_" + name;
        products.push_back(value_product(name, k, *zone_request, lo, hi));
      }
      auto const& grid = sources[e]->grid();
      work = runner.zonal_work(layout.plan, zones->zones, zone_request->mode, is_geographic(grid.crs_wkt), products);
      layout.zonal = &*work;
    }
    if (runner.dry_run()) {
      runner.describe(layout);
      continue;
    }
    auto const stats = runner.run(layout);
    if (work) {
      zonal.add(work->products, stats.zonal);
      covered.push_back(io::whole_grid(layout.plan.grid, {scene.input.string()}));
    }
  }
  if (runner.dry_run()) return 0;
  if (zones) {
    runner.finishing("indices", "zonal tables");
    write_zonal_results(*zone_request, *zones, zonal, sources.front()->grid().crs_wkt, covered,
                        [&runner](fs::path const& p) { runner.wrote(p); }, log);
  }
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
