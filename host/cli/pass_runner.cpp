#include "cli/pass_runner.hpp"

#include <cctype>
#include <cstdio>
#include <optional>

#include "cli/device.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_runtime.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<cxxopts::ParseResult> parse_raster_command(cxxopts::Options& options, int argc, char** argv) {
  add_output_options(options);
  add_sensor_options(options);
  add_run_options(options);
  auto r = options.parse(argc, argv);
  if (r.count("help")) {
    std::puts(options.help(options.groups()).c_str());  // every group, in the order added
    return std::nullopt;
  }
  if (!r.unmatched().empty()) throw usage_error("unexpected argument '" + r.unmatched().front() + "'");
  return r;
}

void add_output_options(cxxopts::Options& options) {
  options.add_options("Output")
      ("out", "output folder", cxxopts::value<std::string>())
      ("compress", "deflate or zstd (with the floating-point predictor)",
       cxxopts::value<std::string>()->default_value("deflate"))
      ("compress-level", "compression level (default: 1 for Float32 products, 6 (deflate) or 9 (zstd) for classes)",
       cxxopts::value<int>()->default_value("0"))
      ("overviews", "add overviews to the COGs")
      ("savi-l", "SAVI soil factor L", cxxopts::value<double>()->default_value("0.5"))
      ("fvc-soil", "FVC bare-soil NDVI end-member", cxxopts::value<double>()->default_value("0.05"))
      ("fvc-veg", "FVC full-vegetation NDVI end-member", cxxopts::value<double>()->default_value("0.86"));
}

io::CogOptions cog_options_from(cxxopts::ParseResult const& r) {
  io::CogOptions cog;
  auto const compress = lower(r["compress"].as<std::string>());
  if (compress != "deflate" && compress != "zstd") throw usage_error("--compress " + compress + ": expected deflate or zstd");
  cog.compression = compress == "zstd" ? "ZSTD" : "DEFLATE";
  cog.overviews = r.count("overviews") > 0;
  cog.level = r["compress-level"].as<int>();
  int const max_level = cog.compression == "ZSTD" ? 22 : 12;
  if (cog.level < 0 || cog.level > max_level)
    throw usage_error("--compress-level " + std::to_string(cog.level) + ": expected 1.." + std::to_string(max_level));
  return cog;
}

pixel::IndexParams index_params_from(cxxopts::ParseResult const& r) {
  pixel::IndexParams p;
  p.savi_l = r["savi-l"].as<double>();
  p.fvc_ndvi_soil = r["fvc-soil"].as<double>();
  p.fvc_ndvi_veg = r["fvc-veg"].as<double>();
  return p;
}

fs::path output_folder(cxxopts::ParseResult const& r) {
  if (!r.count("out")) throw usage_error("--out DIR is required");
  fs::path const out_dir = r["out"].as<std::string>();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw io_error(out_dir.string() + ": cannot create output folder (" + ec.message() + ")");
  return out_dir;
}

io::OutputRaster index_output(fs::path path, pixel::Index index, io::Sensor sensor, fs::path const& input) {
  io::OutputRaster out;
  out.path = std::move(path);
  out.description = std::string(index_description(index));
  out.metadata = {{"RECLAIM_INDEX", std::string(index_name(index))},
                  {"RECLAIM_SENSOR", std::string(io::sensor_name(sensor))},
                  {"RECLAIM_INPUT", input.string()},
                  {"RECLAIM_VERSION", RECLAIM_VERSION},
                  {"RECLAIM_NODATA", "NaN: no data, masked (cloud/shadow) or undefined index"}};
  return out;
}

BudgetSplit split_budget(std::size_t budget) noexcept {
  return {budget / 4, budget / 8, budget - budget / 4 - budget / 8};
}

PassRunner::PassRunner(std::string command, RunSettings const& run, io::CogOptions cog, EventLog& log)
    : m_run(run), m_cog(std::move(cog)), m_log(log), m_budget(split_budget(run.memory_budget)) {
  m_backend = make_backend(run.device, run.threads);
  io::configure_gdal(m_budget.gdal_cache);
  m_log.event("start", {{"command", command}, {"backend", m_backend->name()}}, "backend " + m_backend->name());
}

TilePlan PassRunner::plan(TileSource const& source, PixelPass const& pass, bool block_tiles) const {
  PlanRequest request;
  if (block_tiles) request.target_tile_pixels = 1;  // make_plan rounds up to one whole block
  request.input_planes = input_plane_count(pass);
  request.output_planes = output_plane_count(pass);
  request.memory_budget = m_budget.tiles;
  request.slots_wanted = m_run.readers + m_backend->worker_count() + 2;
  return make_plan(source.grid(), request);
}

namespace {

/// Hands every tile to two sinks, in order (both run on the writer thread).
class TeeSink final : public TileSink {
 public:
  TeeSink(TileSink& first, TileSink& second) : m_first(first), m_second(second) {}
  void write(TileWindow const& window, float const* planes, int plane_count) override {
    m_first.write(window, planes, plane_count);
    m_second.write(window, planes, plane_count);
  }

 private:
  TileSink& m_first;
  TileSink& m_second;
};

}  // namespace

RunStats PassRunner::run(std::string const& label, TileSource const& source, PixelPass const& pass,
                         std::vector<io::OutputRaster> const& outputs, TileSink* also) {
  auto const tiles = plan(source, pass);
  auto sink = io::make_cog_sink(tiles, outputs, m_cog, m_budget.encoder_buffer);
  m_log.event("sink", {{"label", label}, {"kind", sink->kind()}}, label + ": " + sink->kind() + " COG writer");
  std::optional<TeeSink> tee;
  if (also) tee.emplace(*sink, *also);
  auto const stats = run_to_sink(label, source, pass, tiles, tee ? static_cast<TileSink&>(*tee) : *sink);
  sink->finish();
  for (auto const& out : outputs) wrote(out.path);
  return stats;
}

RunStats PassRunner::run_to_sink(std::string const& label, TileSource const& source, PixelPass const& pass,
                                 TilePlan const& plan, TileSink& sink) {
  m_log.event("plan",
              {{"label", label},
               {"width", plan.grid.width},
               {"height", plan.grid.height},
               {"tiles", plan.tiles.size()},
               {"tile_width", plan.tile_width},
               {"tile_height", plan.tile_height},
               {"slots", plan.slot_count},
               {"input_planes", input_plane_count(pass)}},
              label + ": " + std::to_string(plan.grid.width) + " x " + std::to_string(plan.grid.height) + " px, " +
                  std::to_string(plan.tiles.size()) + " tiles of " + std::to_string(plan.tile_width) + " x " +
                  std::to_string(plan.tile_height));
  SchedulerOptions sched;
  sched.reader_threads = m_run.readers;
  sched.on_progress = [this, &label](Progress const& p) { m_log.progress(label, p); };
  auto const stats = run_pipeline(source, sink, *m_backend, pass, plan, sched);
  m_log.end_progress();
  m_log.event("pass_done",
              {{"label", label}, {"tiles", stats.tiles}, {"pixels", stats.pixels}, {"pipeline_s", stats.seconds},
               {"host_buffer_bytes", stats.host_buffer_bytes}},
              label + ": " + std::to_string(stats.pixels / 1000000) + " Mpixel through the pipeline in " +
                  std::to_string(stats.seconds).substr(0, 5) + " s");
  return stats;
}

void PassRunner::wrote(fs::path const& path) {
  m_written.push_back(path);
  m_log.event("output", {{"path", path.string()}});
}

void PassRunner::done() {
  for (auto const& p : m_written) std::printf("%s\n", p.string().c_str());
  m_log.event("done", {{"outputs", m_written.size()}});
}

}  // namespace reclaim::cli
