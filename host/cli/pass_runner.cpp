#include "cli/pass_runner.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/device.hpp"
#include "reclaim/cpus.hpp"
#include "reclaim/error.hpp"
#include "reclaim/interrupt.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_runtime.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<OptionValues> parse_raster_command(cxxopts::Options& options, int argc, char** argv,
                                                 std::string const& help_footer) {
  add_output_options(options);
  add_sensor_options(options);
  add_run_options(options);
  return parse_command(options, argc, argv, help_footer);
}

void add_output_options(cxxopts::Options& options) {
  options.add_options("Output")
      ("out", "output folder", cxxopts::value<std::string>())
      ("compress", "deflate or zstd (with the floating-point predictor)",
       cxxopts::value<std::string>()->default_value("deflate"))
      ("compress-level", "compression level (default: 1 for Float32 products, 6 (deflate) or 9 (zstd) for classes)",
       cxxopts::value<std::string>()->default_value("0"))
      ("overviews", "add overviews to the COGs")
      ("savi-l", "SAVI soil factor L (0 to 1)", cxxopts::value<std::string>()->default_value("0.5"))
      ("fvc-soil", "FVC bare-soil NDVI end-member (below --fvc-veg)", cxxopts::value<std::string>()->default_value("0.05"))
      ("fvc-veg", "FVC full-vegetation NDVI end-member", cxxopts::value<std::string>()->default_value("0.86"));
}

io::CogOptions cog_options_from(OptionValues const& r) {
  io::CogOptions cog;
  auto const compress = lower(r["compress"].as<std::string>());
  if (compress != "deflate" && compress != "zstd") throw usage_error("--compress " + compress + ": expected deflate or zstd");
  cog.compression = compress == "zstd" ? "ZSTD" : "DEFLATE";
  cog.overviews = r.count("overviews") > 0;
  cog.level = r.integer("compress-level", 0, cog.compression == "ZSTD" ? 22 : 12);  // 0: automatic
  return cog;
}

pixel::IndexParams index_params_from(OptionValues const& r) {
  pixel::IndexParams p;
  p.savi_l = r.number_in("savi-l", 0.0, 1.0);
  p.fvc_ndvi_soil = r.number_in("fvc-soil", -1.0, 1.0);
  p.fvc_ndvi_veg = r.number_in("fvc-veg", -1.0, 1.0);
  // FVC divides by veg - soil: equal end-members give NaN everywhere, reversed ones invert it.
  if (!(p.fvc_ndvi_soil < p.fvc_ndvi_veg))
    r.refuse("fvc-soil", "must be below --fvc-veg (" + r["fvc-veg"].as<std::string>() + ")");
  return p;
}

fs::path output_folder(OptionValues const& r) {
  if (!r.count("out")) throw usage_error("--out DIR is required");
  return r["out"].as<std::string>();
}

io::OutputRaster index_output(fs::path path, pixel::Index index, io::SceneSpec const& scene) {
  io::OutputRaster out;
  out.path = std::move(path);
  out.description = std::string(index_description(index));
  out.metadata = {{"RECLAIM_INDEX", std::string(index_name(index))},
                  {"RECLAIM_SENSOR", std::string(io::sensor_name(scene.sensor))},
                  {"RECLAIM_INPUT", scene.input.string()},
                  {"RECLAIM_VERSION", RECLAIM_VERSION},
                  {"RECLAIM_MASK", scene.mask_text},
                  {"RECLAIM_CALIBRATION", "reflectance = " + io::calibration_text(scene)},
                  {"RECLAIM_NODATA", scene.mask_text == "none"
                                         ? "NaN: no data or undefined index (no quality mask was applied)"
                                         : "NaN: no data, masked by " + scene.mask_text + ", or undefined index"}};
  if (!scene.composite.empty()) out.metadata.emplace_back("RECLAIM_COMPOSITE", scene.composite);
  return out;
}

void log_scene_warnings(EventLog& log, io::SceneSpec const& scene) {
  for (auto const& w : scene.warnings) log.warning(w);
}

BudgetSplit split_budget(std::size_t budget) noexcept {
  return {budget / 4, budget / 8, budget - budget / 4 - budget / 8};
}

extern "C" {
static void on_stop_signal(int signal) { request_stop(signal); }
}

namespace {

/// SIGINT and SIGTERM stop the run at the next tile boundary (reclaim/interrupt.hpp); a second
/// one kills it as usual (SA_RESETHAND), for a run stuck where it does not check.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

PassRunner::PassRunner(std::string command, RunSettings const& run, io::CogOptions cog, EventLog& log)
    : m_run(run), m_cog(std::move(cog)), m_log(log), m_budget(split_budget(run.memory_budget)) {
  install_stop_handlers();
  m_backend = make_backend(run.device, run.threads);
  // --threads bounds the COG encoders' pool too. (Not through GDAL_NUM_THREADS: GDAL 3.6 then
  // decodes GeoTIFF reads on threads of its own, which crashes under our reader threads.)
  m_cog.threads = threads();
  io::configure_gdal(m_budget.gdal_cache);
  auto const count = [](int n, char const* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  m_log.event("start",
              {{"command", command},
               {"backend", m_backend->name()},
               {"threads", {{"compute", m_backend->worker_count()}, {"readers", m_run.readers}, {"gdal", m_cog.threads}}}},
              "backend " + m_backend->name() + ": " + count(m_backend->worker_count(), "compute worker") + ", " +
                  count(m_run.readers, "reader") + ", " + count(m_cog.threads, "GDAL thread") + " (of " +
                  count(available_cpus(), "available CPU") + ")");
}

namespace {

std::string mib(double bytes) { return std::to_string(static_cast<long long>(std::ceil(bytes / (1 << 20)))) + " MiB"; }

/** A tile holds at least one whole block of the file, so the budget is a target that tiny
 * budgets may exceed; but a header declaring enormous blocks (a 10^6-pixel-wide strip, a
 * 16384 x 16384 tile) is refused before any buffer is allocated: two tiles of it may not
 * exceed the larger of the budget and kMaxBlockBuffers. */
constexpr double kMaxBlockBuffers = 256.0 * (1 << 20);

void refuse_huge_blocks(TileSource const& source, PixelPass const& pass, std::size_t budget) {
  auto const& g = source.grid();
  double const block_pixels = static_cast<double>(std::clamp<std::int64_t>(g.block_width, 1, g.width)) *
                              static_cast<double>(std::clamp<std::int64_t>(g.block_height, 1, g.height));
  double const bytes = 2 * block_pixels * sizeof(float) * (input_plane_count(pass) + output_plane_count(pass));
  if (bytes > std::max(static_cast<double>(budget), kMaxBlockBuffers))
    throw input_error((source.name().empty() ? std::string("input") : source.name()) + ": blocks of " +
                      std::to_string(g.block_width) + " x " + std::to_string(g.block_height) + " px (in a " +
                      std::to_string(g.width) + " x " + std::to_string(g.height) + " px raster) need " + mib(bytes) +
                      " of tile buffers, more than --memory-budget allows; retile it (gdal_translate -co TILED=YES) "
                      "or raise --memory-budget");
}

/// The grid and tiling of a plan, as the layout and plan events give them.
nlohmann::json plan_fields(TilePlan const& plan) {
  return {{"width", plan.grid.width},       {"height", plan.grid.height},         {"tiles", plan.tiles.size()},
          {"tile_width", plan.tile_width}, {"tile_height", plan.tile_height}, {"slots", plan.slot_count}};
}

/// Sees whether any output pixel of a pass holds a value: a pass over nodata alone warns.
class AnyValidPixel final : public TileObserver {
 public:
  void observe(TileWindow const& w, float const* planes, int plane_count, float const*, int) override {
    if (m_found.load(std::memory_order_relaxed)) return;
    std::size_t const n = w.pixel_count() * static_cast<std::size_t>(plane_count);
    for (std::size_t i = 0; i < n; ++i)
      if (planes[i] == planes[i]) {  // not NaN
        m_found.store(true, std::memory_order_relaxed);
        return;
      }
  }
  [[nodiscard]] bool found() const noexcept { return m_found.load(); }

 private:
  std::atomic<bool> m_found{false};
};

}  // namespace

TilePlan PassRunner::plan(TileSource const& source, PixelPass const& pass, std::int64_t tile_pixels) const {
  refuse_huge_blocks(source, pass, m_run.memory_budget);
  PlanRequest request;
  if (tile_pixels > 0) request.target_tile_pixels = tile_pixels;  // make_plan rounds up to whole blocks
  request.input_planes = input_plane_count(pass);
  request.output_planes = output_plane_count(pass);
  request.memory_budget = m_budget.tiles;
  request.slots_wanted = m_run.readers + m_backend->worker_count() + 2;
  return make_plan(source.grid(), request);
}

ZonalWork PassRunner::zonal_work(TilePlan const& plan, std::vector<Zone> const& zones, CoverageMode mode,
                                 bool geographic, std::vector<ZonalProduct> products, bool warn_outside) const {
  // A zone outside the raster gets count 0 and empty statistics; say which, once (not for a
  // unit of a national run: its window holds parts of its sites, or only their pictures' margin).
  Bounds const raster = window_bounds(plan.grid, TileWindow{0, 0, 0, static_cast<std::int32_t>(plan.grid.width),
                                                           static_cast<std::int32_t>(plan.grid.height)});
  std::size_t outside = 0;
  std::string ids;
  for (auto const& z : zones) {
    if (z.parts.empty() || overlaps(z.bbox, raster)) continue;
    if (++outside <= 5) ids += (outside > 1 ? ", " : "") + z.id;
  }
  if (outside > 0 && warn_outside)
    m_deferred_warnings.push_back(std::to_string(outside) + " of " + std::to_string(zones.size()) +
                                  " zones lie outside the raster (" + ids + (outside > 5 ? ", ..." : "") +
                                  "): their pixel counts are 0 and their statistics empty");
  return make_zonal_work(plan.grid, plan.tiles, zones, mode, geographic, std::move(products), threads());
}

int PassRunner::threads() const noexcept {
  return thread_count(m_run.threads);
}

namespace {

/// Every file a layout writes (COGs, then tables).
std::vector<fs::path> layout_outputs(PassLayout const& l) {
  std::vector<fs::path> out;
  for (auto const& o : l.outputs) out.push_back(o.path);
  out.insert(out.end(), l.tables.begin(), l.tables.end());
  return out;
}

}  // namespace

io::OutputLock PassRunner::claim_outputs(fs::path const& folder, std::vector<PassLayout const*> const& layouts,
                                         std::vector<fs::path> const& extra) const {
  OutputClaim claim{folder, {}, 0};
  for (auto const* l : layouts) {
    auto const files = layout_outputs(*l);
    refuse_overwriting_inputs(files, l->inputs);
    claim.files.insert(claim.files.end(), files.begin(), files.end());
    if (!l->outputs.empty() && io::needs_scratch(l->plan, l->outputs, m_cog, m_budget.encoder_buffer))
      claim.scratch_bytes = std::max(claim.scratch_bytes, io::scratch_bytes(l->plan.grid, l->outputs));
  }
  claim.files.insert(claim.files.end(), extra.begin(), extra.end());
  if (m_run.dry_run) {
    refuse_existing_outputs(claim.files, m_run.overwrite);
    say_deferred_warnings();
    return {};
  }
  auto lock = cli::claim_outputs(claim, m_run.overwrite);
  say_deferred_warnings();
  return lock;
}

void PassRunner::say_deferred_warnings() const {
  for (auto const& w : m_deferred_warnings) m_log.warning(w);
  m_deferred_warnings.clear();
}

void PassRunner::describe(PassLayout const& l) {
  refuse_overwriting_inputs(layout_outputs(l), l.inputs);
  auto const& plan = l.plan;
  nlohmann::json outputs = nlohmann::json::array(), planes = nlohmann::json::array(),
                 products = nlohmann::json::array();
  auto const exists = [](fs::path const& p) {
    std::error_code ec;
    return fs::exists(p, ec);
  };
  for (auto const& o : l.outputs)
    outputs.push_back({{"path", o.path.string()}, {"plane", o.plane}, {"exists", exists(o.path)}});
  for (auto const& name : l.plane_names) planes.push_back(name);
  nlohmann::json tables = nlohmann::json::array();
  nlohmann::json replaces = nlohmann::json::array();
  for (auto const& t : l.tables) tables.push_back(t.string());
  for (auto const& f : layout_outputs(l))
    if (exists(f)) replaces.push_back(f.string());  // only with --overwrite: else refused before
  if (l.zonal)
    for (auto const& p : l.zonal->products)
      products.push_back({{"name", p.name},
                          {"plane", p.plane},
                          {"kind", p.threshold ? "threshold classes" : p.categorical ? "classes" : "values"}});
  nlohmann::json event{{"label", l.label},
                       {"backend", m_backend->name()},
                       {"input_planes", input_plane_count(l.pass)},
                       {"output_planes", planes},
                       {"outputs", outputs},
                       {"zones", l.zonal ? l.zonal->zone_count : 0},
                       {"zonal_products", products},
                       {"crops", l.crops},
                       {"tables", tables},
                       {"replaces", replaces},
                       {"memory_budget_tiles", m_budget.tiles}};
  event.update(plan_fields(plan));
  if (m_run.log_format == LogFormat::json) {
    m_log.event("layout", event);
    return;
  }
  std::string text = "pass " + l.label + " (" + m_backend->name() + ")\n";
  text += "  tiles:   " + std::to_string(plan.tiles.size()) + " of " + std::to_string(plan.tile_width) + " x " +
          std::to_string(plan.tile_height) + " px over " + std::to_string(plan.grid.width) + " x " +
          std::to_string(plan.grid.height) + ", " + std::to_string(plan.slot_count) + " buffer slots\n";
  text += "  planes:  " + std::to_string(input_plane_count(l.pass)) + " in, " +
          std::to_string(output_plane_count(l.pass)) + " out:";
  for (std::size_t k = 0; k < l.plane_names.size(); ++k) text += " " + std::to_string(k) + "=" + l.plane_names[k];
  text += "\n";
  auto const replaced = [&exists](fs::path const& p) { return exists(p) ? std::string(", exists: replaced") : std::string(); };
  for (auto const& o : l.outputs)
    text += "  output:  " + o.path.string() + " (plane " + std::to_string(o.plane) + replaced(o.path) + ")\n";
  if (l.zonal) {
    text += "  zones:   " + std::to_string(l.zonal->zone_count) + ", products:";
    for (auto const& p : l.zonal->products) text += " " + p.name + "(plane " + std::to_string(p.plane) + ")";
    text += "\n";
  }
  if (l.crops) text += "  crops:   " + std::to_string(l.crops) + " picture windows\n";
  for (auto const& t : l.tables)
    text += "  then:    " + t.string() + (exists(t) ? " (exists: replaced)" : "") + "\n";
  std::fputs(text.c_str(), stdout);
}

RunStats PassRunner::run(PassLayout const& l) {
  refuse_overwriting_inputs(layout_outputs(l), l.inputs);
  say_deferred_warnings();
  throw_if_stop_requested();
  std::unique_ptr<io::CogSink> cog;
  NullTileSink null_sink;
  if (!l.outputs.empty()) {
    cog = io::make_cog_sink(l.plan, l.outputs, m_cog, m_budget.encoder_buffer);
    m_log.event("sink", {{"label", l.label}, {"kind", cog->kind()}}, l.label + ": " + cog->kind() + " COG writer");
  }
  auto const& plan = l.plan;
  nlohmann::json plan_event{{"label", l.label}, {"input_planes", input_plane_count(l.pass)}};
  plan_event.update(plan_fields(plan));
  if (!plan.pixels_read.empty()) {  // the pixels whose outputs something reads (pixels_read.hpp)
    std::uint64_t n = 0;
    for (auto const& runs : plan.pixels_read)
      for (auto const& r : runs) n += r.end - r.begin;
    plan_event["pixels_read"] = n;
  }
  m_log.event("plan", std::move(plan_event),
              l.label + ": " + std::to_string(plan.grid.width) + " x " + std::to_string(plan.grid.height) + " px, " +
                  std::to_string(plan.tiles.size()) + " tiles of " + std::to_string(plan.tile_width) + " x " +
                  std::to_string(plan.tile_height));
  SchedulerOptions sched;
  sched.reader_threads = m_run.readers;
  // The scratch writer encodes every COG after the pass: the progress lines say so.
  bool const encodes_after = cog && cog->encodes_in_finish();
  sched.on_progress = [this, &l, encodes_after](Progress const& p) {
    throw_if_stop_requested();  // after each tile: the pipeline stops, the sink removes its temporaries
    m_log.progress(l.label, p, encodes_after ? "encoding" : "");
  };
  sched.zonal = l.zonal;
  sched.observers = l.observers;
  AnyValidPixel any_valid;
  sched.observers.push_back(&any_valid);
  std::string const input = l.source->name().empty() ? l.label : l.source->name();
  if (plan.grid.crs_wkt.empty())
    m_log.warning(input + ": has no CRS: the outputs have none either, and areas in hectares take its map units "
                          "for metres");
  TileSink& sink = cog ? static_cast<TileSink&>(*cog) : null_sink;
  auto stats = run_pipeline(*l.source, sink, *m_backend, l.pass, plan, sched);
  m_log.end_progress();
  if (stats.pixels > 0 && !any_valid.found())  // no pixel read (zones outside the raster) is said elsewhere
    m_log.warning(input + ": no valid pixel: every output pixel of " + l.label +
                  " is nodata (the input is all nodata, masked, saturated or not finite)");
  m_log.event("pass_done",
              {{"label", l.label}, {"tiles", stats.tiles}, {"pixels", stats.pixels}, {"pipeline_s", stats.seconds},
               {"host_buffer_bytes", stats.host_buffer_bytes}},
              l.label + ": " + std::to_string(stats.pixels / 1000000) + " Mpixel through the pipeline in " +
                  std::to_string(stats.seconds).substr(0, 5) + " s");
  if (cog) {
    throw_if_stop_requested();
    std::string const n = std::to_string(l.outputs.size()) + (l.outputs.size() == 1 ? " COG" : " COGs");
    m_log.finishing(l.label, encodes_after ? "encoding " + n + (m_cog.overviews ? " with overviews" : "")
                                           : "the last rows of " + n);
    cog->finish([this, &l](double f) { m_log.finish_progress(l.label, f); });
    m_log.finish_progress(l.label, 1.0);
    m_log.end_progress();
    for (auto const& out : l.outputs) wrote(out.path);
  }
  return stats;
}

void PassRunner::finishing(std::string const& label, std::string const& step) { m_log.finishing(label, step); }

void PassRunner::wrote(fs::path const& path) {
  m_written.push_back(path);
  m_log.event("output", {{"path", path.string()}});
}

void PassRunner::done() {
  for (auto const& p : m_written) std::printf("%s\n", p.string().c_str());
  m_log.event("done", {{"outputs", m_written.size()}},
              "done: " + std::to_string(m_written.size()) + (m_written.size() == 1 ? " file" : " files") + " written");
}

}  // namespace reclaim::cli
