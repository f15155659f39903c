// reclaim indices: one fused pass per epoch, one COG per requested index.
#include <cxxopts.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/device.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/cog_writer.hpp"
#include "reclaim/io/gdal_runtime.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/scheduler.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// <out>/<index>.tif for a single unlabeled input, <out>/<label>_<index>.tif otherwise.
fs::path output_path(fs::path const& out_dir, std::string const& label, pixel::Index index) {
  std::string const name = std::string(index_name(index)) + ".tif";
  return out_dir / (label.empty() ? name : label + "_" + name);
}

/// Splits the memory budget: a quarter for the scheduler's tile buffers, an eighth for
/// GDAL's block cache, the rest for finished tiles waiting for the COG encoders.
struct BudgetSplit {
  std::size_t tiles;
  std::size_t gdal_cache;
  std::size_t encoder_buffer;
};
BudgetSplit split_budget(std::size_t budget) { return {budget / 4, budget / 8, budget - budget / 4 - budget / 8}; }

}  // namespace

int indices_main(int argc, char** argv) {
  cxxopts::Options options("reclaim indices", "Spectral indices of one or more scenes, one Cloud-Optimized GeoTIFF each");
  options.add_options()
      ("input", "a scene: multiband file or product folder, optionally LABEL=PATH; repeat for several epochs",
       cxxopts::value<std::vector<std::string>>())
      ("index", "indices: ndvi, evi, savi, msavi2, ndwi, mndwi, nbr, ndmi, bsi, fvc, or all",
       cxxopts::value<std::string>()->default_value("ndvi"))
      ("out", "output folder", cxxopts::value<std::string>())
      ("compress", "deflate or zstd (with the floating-point predictor)",
       cxxopts::value<std::string>()->default_value("deflate"))
      ("overviews", "add overviews to the COGs")
      ("savi-l", "SAVI soil factor L", cxxopts::value<double>()->default_value("0.5"))
      ("fvc-soil", "FVC bare-soil NDVI end-member", cxxopts::value<double>()->default_value("0.05"))
      ("fvc-veg", "FVC full-vegetation NDVI end-member", cxxopts::value<double>()->default_value("0.86"));
  add_sensor_options(options);
  add_run_options(options);
  auto const r = options.parse(argc, argv);
  if (r.count("help")) {
    std::puts(options.help({"", "Sensor and band map", "Run"}).c_str());
    return 0;
  }
  if (!r.unmatched().empty()) throw usage_error("unexpected argument '" + r.unmatched().front() + "'");
  if (!r.count("out")) throw usage_error("--out DIR is required");
  auto const indices = parse_index_list(lower(r["index"].as<std::string>()));
  auto const sensor = sensor_options_from(r);
  auto const run = run_settings_from(r);
  io::CogOptions cog;
  auto const compress = lower(r["compress"].as<std::string>());
  if (compress != "deflate" && compress != "zstd") throw usage_error("--compress " + compress + ": expected deflate or zstd");
  cog.compression = compress == "zstd" ? "ZSTD" : "DEFLATE";
  cog.overviews = r.count("overviews") > 0;

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
  std::vector<io::SceneSpec> scenes;
  std::uint32_t needed = 0;
  for (auto index : indices) needed |= pixel::bands_needed(index);
  std::vector<std::unique_ptr<io::GdalTileSource>> sources;
  for (auto const& in : inputs) {
    scenes.push_back(io::resolve_scene(in.label, in.path, sensor));
    io::require_bands(scenes.back(), indices);
    sources.push_back(std::make_unique<io::GdalTileSource>(scenes.back(), needed));
  }

  fs::path const out_dir = r["out"].as<std::string>();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw io_error(out_dir.string() + ": cannot create output folder (" + ec.message() + ")");

  auto backend = make_backend(run.device, run.threads);
  auto const budget = split_budget(run.memory_budget);
  io::configure_gdal(budget.gdal_cache);
  log.event("start", {{"command", "indices"}, {"backend", backend->name()}, {"inputs", inputs.size()}},
            "backend " + backend->name());

  std::vector<fs::path> written;
  for (std::size_t e = 0; e < scenes.size(); ++e) {
    auto const& scene = scenes[e];
    auto const& source = *sources[e];
    auto params = source.fused_params();
    params.index_params.savi_l = r["savi-l"].as<double>();
    params.index_params.fvc_ndvi_soil = r["fvc-soil"].as<double>();
    params.index_params.fvc_ndvi_veg = r["fvc-veg"].as<double>();
    std::vector<io::OutputRaster> outputs;
    for (auto index : indices) {
      params.outputs[params.output_count++] = index;
      io::OutputRaster out;
      out.path = output_path(out_dir, scene.label, index);
      out.description = std::string(index_description(index));
      out.metadata = {{"RECLAIM_INDEX", std::string(index_name(index))},
                      {"RECLAIM_SENSOR", std::string(io::sensor_name(sensor.sensor))},
                      {"RECLAIM_INPUT", scene.input.string()},
                      {"RECLAIM_VERSION", RECLAIM_VERSION},
                      {"RECLAIM_NODATA", "NaN: no data, masked (cloud/shadow) or undefined index"}};
      outputs.push_back(std::move(out));
    }

    PlanRequest request;
    request.input_planes = params.input_plane_count;
    request.output_planes = params.output_count;
    request.memory_budget = budget.tiles;
    request.slots_wanted = run.readers + backend->worker_count() + 2;
    auto const plan = make_plan(source.grid(), request);
    std::string const label = scene.label.empty() ? "indices" : scene.label;
    log.event("plan",
              {{"label", label},
               {"width", plan.grid.width},
               {"height", plan.grid.height},
               {"tiles", plan.tiles.size()},
               {"tile_width", plan.tile_width},
               {"tile_height", plan.tile_height},
               {"slots", plan.slot_count},
               {"input_planes", params.input_plane_count}},
              label + ": " + std::to_string(plan.grid.width) + " x " + std::to_string(plan.grid.height) + " px, " +
                  std::to_string(plan.tiles.size()) + " tiles of " + std::to_string(plan.tile_width) + " x " +
                  std::to_string(plan.tile_height));

    auto sink = io::make_cog_sink(plan, outputs, cog, budget.encoder_buffer);
    log.event("sink", {{"label", label}, {"kind", sink->kind()}}, label + ": " + sink->kind() + " COG writer");
    SchedulerOptions sched;
    sched.reader_threads = run.readers;
    sched.on_progress = [&log, &label](Progress const& p) { log.progress(label, p); };
    auto const stats = run_pipeline(source, *sink, *backend, params, plan, sched);
    sink->finish();
    log.end_progress();
    for (auto const& out : outputs) {
      written.push_back(out.path);
      log.event("output", {{"label", label}, {"path", out.path.string()}});
    }
    log.event("pass_done",
              {{"label", label}, {"tiles", stats.tiles}, {"pixels", stats.pixels}, {"pipeline_s", stats.seconds},
               {"host_buffer_bytes", stats.host_buffer_bytes}},
              label + ": " + std::to_string(stats.pixels / 1000000) + " Mpixel through the pipeline in " +
                  std::to_string(stats.seconds).substr(0, 5) + " s");
  }
  for (auto const& p : written) std::printf("%s\n", p.string().c_str());
  log.event("done", {{"outputs", written.size()}});
  return 0;
}

}  // namespace reclaim::cli
