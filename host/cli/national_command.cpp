// National runs: `reclaim plan` cuts an assessment's grid into units, `reclaim run` assesses
// units (each its own window of the grid, its sites' exact accumulators into a partial), and
// `reclaim merge RUN/` merges the units into the tables, summary and report one `reclaim assess`
// over everything would write (docs/national.md).
#include <cxxopts.hpp>
#include <gdal_utils.h>
#include <ogr_spatialref.h>

#include <malloc.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/assess_internal.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/logging.hpp"
#include "cli/option_values.hpp"
#include "cli/pass_runner.hpp"
#include "io/output_file.hpp"
#include "reclaim/error.hpp"
#include "reclaim/interrupt.hpp"
#include "reclaim/io/crop_pieces.hpp"
#include "reclaim/io/number_text.hpp"
#include "reclaim/io/zonal_partial.hpp"

extern char** environ;

namespace reclaim::cli {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr char kPlanName[] = "plan.json";
constexpr char kUnitsGeojson[] = "units.geojson";
constexpr char kDoneName[] = "done.json";
constexpr char kPartialName[] = "partial.rzp";
constexpr char kCropsName[] = "crops.rzc";  ///< the unit's pieces of the pictures (io/crop_pieces.hpp)
constexpr int kPlanVersion = 1;

/** Calibration of the estimates: input pixels (grid pixels x planes read) per second of one
 * unit on one worker. Measured with the CPU backend on a 2-core AMD EPYC VM (the CI machine):
 * `reclaim run` of one 4096 x 4096 demo unit, 1.36e8 measured when every pixel of the tiles read was
 * computed, 3.2e8 since a lean unit computes only the pixels read (bench/results/national-amd-epyc-2c.md;
 * kept at 1.3e8: the demo's sites fill most of its unit). A GPU server is faster; the estimate is
 * for planning, not a promise. */
constexpr double kInputPixelsPerSecond = 1.3e8;
/** Likewise for composited epochs: observations (a scene's pixel on the grid: its bands and
 * mask read, decoded, masked and composited) per second, from the median composite of 20
 * scenes of 2048 x 2048 in 5.65 s, CPU backend, same VM (bench/results/composite-e2e-amd-epyc-2c.md). */
constexpr double kObservationsPerSecond = 1.48e7;
/** Observations of scenes warped onto the grid (another UTM zone than an Albers grid: GDAL's
 * warper, bilinear, for every band), from the national demo's units (`reclaim synth --national`:
 * every scene warped), same VM (bench/results/national-amd-epyc-2c.md). */
constexpr double kWarpedObservationsPerSecond = 1.8e6;
/** A unit's fixed cost, whatever its size: opening the job, the sites and the scenes (under 0.1 s
 * with two single-scene epochs), plus a warped VRT made for every warped scene of a composited
 * epoch; fitted to the same demo units (0.4 s with 8 warped scenes). */
constexpr double kUnitSeconds = 0.05, kUnitSecondsPerWarpedScene = 0.04;

/// The options given on the command line (not the job file), as arguments to pass on.
std::vector<std::string> passed_options(cxxopts::ParseResult const& cli, std::set<std::string> const& names) {
  std::vector<std::string> out;
  for (auto const& kv : cli.arguments()) {
    if (!names.count(kv.key())) continue;
    out.push_back("--" + kv.key());
    if (kv.value() != "true" || kv.key() == "device") out.push_back(kv.value());
  }
  return out;
}

bool is_local_file(std::string const& path) { return path.rfind("/vsi", 0) != 0 && path.find("://") == std::string::npos; }

/// A file's fingerprint: size and modification time (a full checksum would reread the archive),
/// and its SHA-256 when asked (`checksum-inputs`).
ojson fingerprint(fs::path const& path, bool checksum = false) {
  ojson f{{"path", path.string()}};
  if (!is_local_file(path.string())) return f;
  std::error_code ec;
  auto const bytes = fs::file_size(path, ec);
  if (ec) throw input_error(path.string() + ": cannot be read (" + ec.message() + ")");
  auto const time = fs::last_write_time(path, ec);
  f["bytes"] = bytes;
  auto const sys = std::chrono::file_clock::to_sys(time);
  f["mtime_ns"] = std::chrono::duration_cast<std::chrono::nanoseconds>(sys.time_since_epoch()).count();
  if (checksum) f["sha256"] = io::digest_file(path).sha256;
  return f;
}

/// An inventory's identity: its content only (a copy or a touch changes nothing).
ojson inventory_print(fs::path const& path) {
  ojson f{{"path", path.string()}};
  if (!is_local_file(path.string())) return f;
  if (!fs::exists(path)) throw input_error(path.string() + ": the inventory cannot be read");
  f["sha256"] = io::digest_file(path).sha256;
  return f;
}

ojson read_json_file(fs::path const& path, std::string const& what) {
  std::ifstream in(path);
  if (!in) throw input_error(path.string() + ": cannot be read (" + what + ")");
  try {
    return ojson::parse(in);
  } catch (nlohmann::json::exception const& e) {
    throw input_error(path.string() + ": not a valid " + what + " (" + e.what() + ")");
  }
}

/// The options a plan's runs are made of: assess's, and the plan's own (which assess refuses).
void add_plan_options(cxxopts::Options& options) {
  add_assess_options(options);
  options.add_options("National run")
      ("unit-size", "side of a unit in grid pixels (rounded up to whole blocks of the grid)",
       cxxopts::value<std::string>()->default_value("4096"))
      ("keep-rasters", "none (the tables only: most of a national run's cost is encoding COGs), sites (each site's "
                       "window, as its pictures frame it) or units (each unit's whole window); with sites or units "
                       "the merge writes a national VRT of each raster",
       cxxopts::value<std::string>()->default_value("none"))
      ("checksum-inputs", "record every scene's SHA-256 in the plan and check it before each run and the merge "
                          "(rereads the archive each time; by default sizes and modification times are checked)");
}

/// Parses `args` (args[0]: the command name) with the plan's options.
OptionValues parse_plan_options(std::vector<std::string> args) {
  cxxopts::Options options("reclaim plan", "");
  add_plan_options(options);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  auto parsed = parse_raster_command(options, static_cast<int>(argv.size()), argv.data());
  if (!parsed) throw usage_error("unexpected --help");
  return std::move(*parsed);
}

/// The plan of RUN/, read and checked.
struct Plan {
  fs::path run_dir;
  ojson doc;
  fs::path job;
  [[nodiscard]] std::size_t unit_count() const { return doc.at("units").size(); }
  [[nodiscard]] ojson const& unit(std::size_t i) const { return doc.at("units").at(i); }
  [[nodiscard]] fs::path unit_dir(std::size_t i) const {
    return run_dir / "units" / unit(i).at("id").get<std::string>();
  }
};

Plan read_plan(fs::path const& run_dir) {
  Plan p;
  p.run_dir = run_dir;
  auto const path = run_dir / kPlanName;
  if (!fs::exists(path)) throw input_error(run_dir.string() + ": no " + kPlanName + " (make one with reclaim plan JOB --out " + run_dir.string() + ")");
  p.doc = read_json_file(path, "reclaim plan");
  try {
    if (p.doc.at("format").get<std::string>() != "reclaim-plan" || p.doc.at("version").get<int>() != kPlanVersion)
      throw input_error(path.string() + ": not a reclaim plan of version " + std::to_string(kPlanVersion));
    p.job = p.doc.at("job").at("path").get<std::string>();
    (void)p.doc.at("units").size();
  } catch (nlohmann::json::exception const& e) {
    throw input_error(path.string() + ": not a valid reclaim plan (" + e.what() + ")");
  }
  return p;
}

/// Refuses a run whose job, sites or scenes changed since the plan (their results would no
/// longer be what the plan describes): checksums of the job and sites, fingerprints of the rest.
void check_inputs_unchanged(Plan const& p) {
  auto const& d = p.doc;
  for (auto const* key : {"job", "sites"}) {
    fs::path const path = d.at(key).at("path").get<std::string>();
    if (!is_local_file(path.string())) continue;
    if (!fs::exists(path)) throw input_error(path.string() + ": the plan's " + key + " file is gone");
    if (io::digest_file(path).sha256 != d.at(key).at("sha256").get<std::string>())
      throw input_error(path.string() + ": changed since the plan was made (checksum): plan again (reclaim plan ... --overwrite)");
  }
  for (auto const& f : d.value("inventories", ojson::array())) {
    fs::path const path = f.at("path").get<std::string>();
    if (inventory_print(path) != f)
      throw input_error(path.string() + ": the inventory changed since the plan was made (checksum): plan again "
                                        "(reclaim plan ... --overwrite)");
  }
  for (auto const& f : d.at("inputs")) {
    fs::path const path = f.at("path").get<std::string>();
    if (fingerprint(path, f.contains("sha256")) != f)
      throw input_error(path.string() + ": changed since the plan was made (" +
                        (f.contains("sha256") ? "size, time or checksum" : "size or time") +
                        "): plan again (reclaim plan ... --overwrite)");
  }
}

/// True when the unit's done record is there and every output it lists has its recorded size
/// and checksum.
bool unit_complete(Plan const& p, std::size_t i, std::string* why = nullptr) {
  auto const done = p.unit_dir(i) / kDoneName;
  if (!fs::exists(done)) return false;
  ojson d;
  try {
    d = read_json_file(done, "done record");
    if (d.at("unit_id").get<std::string>() != p.unit(i).at("id").get<std::string>()) {
      if (why) *why = "its done record is another unit's";
      return false;
    }
    for (auto const& o : d.at("outputs")) {
      fs::path const path = p.run_dir / o.at("path").get<std::string>();
      std::error_code ec;
      if (!fs::exists(path, ec) || fs::file_size(path, ec) != o.at("bytes").get<std::uintmax_t>() ||
          io::digest_file(path).sha256 != o.at("sha256").get<std::string>()) {
        if (why) *why = path.string() + " does not match its done record";
        return false;
      }
    }
  } catch (std::exception const& e) {
    if (why) *why = std::string("its done record cannot be read (") + e.what() + ")";
    return false;
  }
  return true;
}

/// Units of shard k of n: greedy by estimated cost (largest first, to the least loaded shard;
/// ties by index), so every process computes the same shares.
std::vector<std::size_t> shard_units(Plan const& p, std::size_t k, std::size_t n) {
  std::vector<std::size_t> order(p.unit_count());
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto cost = [&](std::size_t i) { return p.unit(i).at("estimate").at("seconds").get<double>(); };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cost(a) > cost(b); });
  std::vector<double> load(n, 0.0);
  std::vector<std::size_t> mine;
  for (auto const i : order) {
    auto const s = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[s] += cost(i);
    if (s == k) mine.push_back(i);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

/// Parses `reclaim run` or `reclaim merge RUN/` (RUN/ positional): nullopt after printing --help;
/// usage_error for a stray argument or a bad --log-format.
std::optional<cxxopts::ParseResult> parse_run_folder_command(cxxopts::Options& options, int argc, char** argv) {
  options.parse_positional({"run"});
  options.positional_help("RUN/");
  auto r = options.parse(argc, argv);
  if (r.count("help")) {
    std::puts(options.help().c_str());
    return std::nullopt;
  }
  if (!r.unmatched().empty()) throw usage_error("unexpected argument '" + r.unmatched().front() + "'");
  if (!r.count("run")) throw usage_error("give the run folder (reclaim plan --out)");
  auto const format = r["log-format"].as<std::string>();
  if (format != "text" && format != "json") throw usage_error("--log-format: expected text or json");
  return r;
}

EventLog event_log_of(cxxopts::ParseResult const& r) {
  return EventLog(r["log-format"].as<std::string>() == "json" ? LogFormat::json : LogFormat::text, r.count("quiet") > 0);
}

std::size_t parse_count(std::string const& text, std::string const& what) {
  auto const v = to_number(text);
  if (!v || *v < 0 || *v != std::floor(*v) || *v > 1e9) throw usage_error(what + " " + text + ": not a whole number");
  return static_cast<std::size_t>(*v);
}

/// The units `reclaim run` was asked for: --unit, --units, --shard, else the array index of
/// Slurm or Kubernetes from the environment, else every unit.
std::vector<std::size_t> selected_units(cxxopts::ParseResult const& r, Plan const& p, EventLog& log) {
  std::size_t const n = p.unit_count();
  std::vector<std::size_t> units;
  auto check = [&](std::size_t i, std::string const& what) {
    if (i >= n) throw usage_error(what + ": the plan has units 0 to " + std::to_string(n - 1));
    return i;
  };
  if (r.count("unit")) return {check(parse_count(r["unit"].as<std::string>(), "--unit"), "--unit")};
  if (r.count("units")) {
    auto const text = r["units"].as<std::string>();
    auto const dash = text.find('-');
    if (dash == std::string::npos) throw usage_error("--units " + text + ": expected I-J");
    auto const a = check(parse_count(text.substr(0, dash), "--units"), "--units");
    auto const b = check(parse_count(text.substr(dash + 1), "--units"), "--units");
    if (b < a) throw usage_error("--units " + text + ": J is before I");
    for (auto i = a; i <= b; ++i) units.push_back(i);
    return units;
  }
  std::optional<std::pair<std::size_t, std::size_t>> shard;
  if (r.count("shard")) {
    auto const text = r["shard"].as<std::string>();
    auto const slash = text.find('/');
    if (slash == std::string::npos) throw usage_error("--shard " + text + ": expected K/N (K from 0 to N-1)");
    shard = {parse_count(text.substr(0, slash), "--shard"), parse_count(text.substr(slash + 1), "--shard")};
  } else if (char const* id = std::getenv("SLURM_ARRAY_TASK_ID")) {
    char const* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
    char const* min = std::getenv("SLURM_ARRAY_TASK_MIN");
    if (!count) throw usage_error("SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT");
    std::size_t const lo = min ? parse_count(min, "SLURM_ARRAY_TASK_MIN") : 0;
    shard = {parse_count(id, "SLURM_ARRAY_TASK_ID") - lo, parse_count(count, "SLURM_ARRAY_TASK_COUNT")};
    log.event("shard", {{"shard", shard->first}, {"of", shard->second}}, "shard " + std::to_string(shard->first) + "/" + std::to_string(shard->second) +
             " from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT");
  } else if (char const* index = std::getenv("JOB_COMPLETION_INDEX")) {
    char const* count = std::getenv("RECLAIM_SHARD_COUNT");
    if (!count) throw usage_error("JOB_COMPLETION_INDEX is set: give the number of shards in RECLAIM_SHARD_COUNT");
    shard = {parse_count(index, "JOB_COMPLETION_INDEX"), parse_count(count, "RECLAIM_SHARD_COUNT")};
  }
  if (shard) {
    if (shard->second == 0 || shard->first >= shard->second)
      throw usage_error("shard " + std::to_string(shard->first) + "/" + std::to_string(shard->second) +
                        ": expected K/N with K from 0 to N-1");
    return shard_units(p, shard->first, shard->second);
  }
  units.resize(n);
  std::iota(units.begin(), units.end(), std::size_t{0});
  return units;
}

/// An injected fault for tests of drivers' retries: RECLAIM_FAIL_UNIT=I makes unit I fail with
/// exit 4 (retryable) while the file RECLAIM_FAIL_ONCE_FILE, when given, does not exist yet
/// (it is created, so the retry succeeds).
void injected_fault(std::size_t unit) {
  char const* fail = std::getenv("RECLAIM_FAIL_UNIT");
  if (!fail || std::to_string(unit) != fail) return;
  if (char const* once = std::getenv("RECLAIM_FAIL_ONCE_FILE")) {
    if (fs::exists(once)) return;
    std::ofstream(once) << "failed once\n";
  }
  throw io_error("unit " + std::to_string(unit) + ": injected fault (RECLAIM_FAIL_UNIT)");
}

/// RUN/units.geojson: each unit's outline (edges densified) in WGS 84 longitude, latitude (RFC 7946).
/** Removes the hidden temporaries (`.<name>.<pid>-<random>.<suffix>`, io::hidden_temp_path) that
 * a killed earlier attempt left in a unit's folder: those of processes not alive on this host.
 * A writer alive on another host would lose its temporary and fail with exit 4 (retryable),
 * never with a wrong file. */
void remove_stale_temporaries(fs::path const& dir) {
  std::error_code ec;
  for (auto const& entry : fs::recursive_directory_iterator(dir, ec)) {
    std::string const name = entry.path().filename().string();
    if (name.size() < 2 || name[0] != '.' || name.find(".lock") != std::string::npos) continue;
    auto const dash = name.rfind('-');
    if (dash == std::string::npos) continue;
    auto const dot = name.rfind('.', dash);
    if (dot == std::string::npos || dot + 1 >= dash) continue;
    auto const pid_text = name.substr(dot + 1, dash - dot - 1);
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    auto const pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == ::getpid() || (::kill(pid, 0) != 0 && errno != ESRCH) || ::kill(pid, 0) == 0) continue;
    fs::remove(entry.path(), ec);
  }
}

void write_units_geojson(fs::path const& path, ojson const& units, ojson const& grid) {
  OGRSpatialReference from, to;
  if (from.importFromWkt(grid.at("crs_wkt").get<std::string>().c_str()) != OGRERR_NONE)
    throw input_error(path.string() + ": the grid's CRS cannot be read");
  to.importFromEPSG(4326);
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  std::unique_ptr<OGRCoordinateTransformation> ct(OGRCreateCoordinateTransformation(&from, &to));
  if (!ct) throw input_error(path.string() + ": no transformation from the grid's CRS to WGS 84");
  auto const gt = grid.at("geotransform").get<std::vector<double>>();
  ojson fc{{"type", "FeatureCollection"}, {"features", ojson::array()}};
  constexpr int kSteps = 8;  // points per edge: a UTM square is curved in longitude, latitude
  for (auto const& u : units) {
    auto const w = u.at("window").get<std::vector<double>>();
    double const x0 = gt[0] + gt[1] * w[0], x1 = gt[0] + gt[1] * (w[0] + w[2]);
    double const y0 = gt[3] + gt[5] * w[1], y1 = gt[3] + gt[5] * (w[1] + w[3]);
    std::vector<double> xs, ys;
    double const cx[5] = {x0, x1, x1, x0, x0}, cy[5] = {y0, y0, y1, y1, y0};
    for (int e = 0; e < 4; ++e)
      for (int k = 0; k < kSteps; ++k) {
        double const t = static_cast<double>(k) / kSteps;
        xs.push_back(cx[e] + (cx[e + 1] - cx[e]) * t);
        ys.push_back(cy[e] + (cy[e + 1] - cy[e]) * t);
      }
    xs.push_back(x0);
    ys.push_back(y0);
    if (!ct->Transform(xs.size(), xs.data(), ys.data()))
      throw input_error(path.string() + ": unit " + u.at("index").dump() + " cannot be transformed to WGS 84");
    ojson ring = ojson::array();
    for (std::size_t k = 0; k < xs.size(); ++k) ring.push_back(ojson::array({xs[k], ys[k]}));
    fc["features"].push_back({{"type", "Feature"},
                              {"properties", {{"unit", u.at("index")}, {"id", u.at("id")}, {"sites", u.at("sites").size()},
                                              {"est_seconds", u.at("estimate").at("seconds")}}},
                              {"geometry", {{"type", "Polygon"}, {"coordinates", ojson::array({ring})}}}});
  }
  io::write_file_atomically(path, fc.dump() + "\n");
}

std::string human_bytes(double b) {
  char text[32];
  if (b >= 1e12) std::snprintf(text, sizeof text, "%.1f TB", b / 1e12);
  else if (b >= 1e9) std::snprintf(text, sizeof text, "%.1f GB", b / 1e9);
  else std::snprintf(text, sizeof text, "%.1f MB", b / 1e6);
  return text;
}

std::string human_seconds(double s) {
  char text[32];
  if (s >= 3600) std::snprintf(text, sizeof text, "%.1f h", s / 3600);
  else if (s >= 60) std::snprintf(text, sizeof text, "%.1f min", s / 60);
  else std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

}  // namespace

int plan_main(int argc, char** argv) {
  // `reclaim plan JOB --out RUN/`: JOB is the first argument (or --job JOB).
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() > 1 && !args[1].empty() && args[1][0] != '-') args.insert(args.begin() + 1, "--job");
  bool const help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
  if (help) {
    cxxopts::Options options("reclaim plan", "Cut a national assessment (a job file of reclaim assess's options, "
                                             "plus the plan's) into units of work: RUN/plan.json, RUN/units.geojson");
    add_plan_options(options);
    options.positional_help("JOB --out RUN/");
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    (void)parse_raster_command(options, static_cast<int>(av.size()), av.data(),
                               "\nThen: reclaim run RUN/ [--unit I | --units I-J | --shard K/N], reclaim merge RUN/ "
                               "(docs/national.md)\n");
    return 0;
  }
  auto const r = parse_plan_options(args);
  if (!r.job_path()) throw usage_error("give the job file: reclaim plan JOB --out RUN/");
  // Everything the runs use lives in the job file, so that plan, run and merge read one thing.
  std::set<std::string> const allowed{"job", "out", "unit-size", "keep-rasters", "checksum-inputs", "overwrite", "quiet",
                                      "log-format", "threads", "readers", "memory-budget", "device"};
  for (auto const& kv : r.cli().arguments())
    if (!allowed.count(kv.key()))
      throw usage_error("--" + kv.key() + ": put the assessment's options in the job file (" +
                        r.job_path()->string() + "); the plan's command line takes --out, --unit-size, --keep-rasters");
  auto const run = run_settings_from(r);
  EventLog log(run.log_format, run.quiet);
  fs::path const run_dir = output_folder(r);
  auto const keep = lower(r["keep-rasters"].as<std::string>());
  if (keep != "none" && keep != "sites" && keep != "units") r.refuse("keep-rasters", "expected none, sites or units");
  if (r.count("no-rasters"))
    r.refuse("no-rasters", "a national run keeps the rasters its plan names: --keep-rasters none, sites or units");
  int const unit_request = r.integer("unit-size", 64, 1 << 20);

  auto const layout = assess_layout(r);  // every check of reclaim assess, before anything is written
  auto const& grid = layout.grid;
  // Whole blocks, so that a unit's tiles are the blocks a single run would read.
  auto round_up = [](std::int64_t v, std::int64_t m) { return (v + m - 1) / m * m; };
  std::int64_t const ux = round_up(unit_request, grid.block_width), uy = round_up(unit_request, grid.block_height);

  fs::path const job = fs::absolute(*r.job_path()).lexically_normal();
  fs::path const sites = layout.sites_path;
  ojson doc;
  doc["format"] = "reclaim-plan";
  doc["version"] = kPlanVersion;
  doc["reclaim"] = RECLAIM_VERSION;
  doc["job"] = {{"path", job.string()}, {"sha256", io::digest_file(job).sha256}};
  fs::path const sites_abs = is_local_file(sites.string()) ? fs::absolute(sites).lexically_normal() : sites;
  doc["sites"] = {{"path", sites_abs.string()},
                  {"sha256", is_local_file(sites.string()) ? io::digest_file(sites).sha256 : ""},
                  {"count", layout.site_ids.size()}};
  doc["grid"] = {{"crs_wkt", grid.crs_wkt},
                 {"geotransform", grid.geotransform},
                 {"width", grid.width},
                 {"height", grid.height},
                 {"block", {grid.block_width, grid.block_height}}};
  doc["unit_size"] = {ux, uy};
  doc["keep_rasters"] = keep;
  ojson inputs = ojson::array();
  auto same = [](fs::path const& a, fs::path const& b) {
    return fs::absolute(a).lexically_normal() == fs::absolute(b).lexically_normal();
  };
  for (auto const& f : layout.inputs)
    if (!same(f, job) && !same(f, sites)) inputs.push_back(fingerprint(f, r.count("checksum-inputs") > 0));
  doc["inputs"] = inputs;
  // A composited epoch: its inventories (small: always checksummed, so that an added or removed
  // scene is caught) and the ids of the items it keeps (which name a scene whose assets are
  // remote, /vsis3/ or /vsicurl/, where no size or time is read).
  ojson inventories = ojson::array(), epochs = ojson::array();
  for (auto const& f : layout.inventories) inventories.push_back(inventory_print(f));
  for (auto const& [label, ids] : layout.epoch_items) epochs.push_back({{"label", label}, {"items", ids}});
  doc["inventories"] = inventories;
  doc["epoch_items"] = epochs;
  doc["calibration"] = {{"input_pixels_per_second", kInputPixelsPerSecond},
                        {"observations_per_second", kObservationsPerSecond},
                        {"warped_observations_per_second", kWarpedObservationsPerSecond},
                        {"unit_seconds", kUnitSeconds},
                        {"unit_seconds_per_warped_scene", kUnitSecondsPerWarpedScene},
                        {"measured", "CPU backend, 2-core AMD EPYC VM (bench/results/national-amd-epyc-2c.md, composite-e2e-amd-epyc-2c.md)"}};

  // Units: the grid's squares that touch a site (its box on the grid), or its pictures' window
  // (the box and a margin), so that every sample of a merged picture comes from some unit.
  std::int64_t const cols = (grid.width + ux - 1) / ux;
  std::map<std::int64_t, std::vector<std::size_t>> unit_sites;  // row-major unit number -> sites
  std::size_t placed = 0;
  for (std::size_t s = 0; s < layout.site_bounds.size(); ++s) {
    if (!layout.site_bounds[s]) continue;
    auto w = clip_to_grid(grid, window_of_bounds(grid, *layout.site_bounds[s]));
    if (w.width <= 0 || w.height <= 0) continue;
    ++placed;
    if (layout.picture_windows[s]) w = *layout.picture_windows[s];  // contains the box
    if (keep == "sites" && layout.site_windows[s]) w = *layout.site_windows[s];  // likewise
    for (auto ry = w.y0 / uy; ry <= (w.y0 + w.height - 1) / uy; ++ry)
      for (auto cx = w.x0 / ux; cx <= (w.x0 + w.width - 1) / ux; ++cx) unit_sites[ry * cols + cx].push_back(s);
  }
  ojson units = ojson::array();
  double total_seconds = 0, total_bytes = 0;
  double const unit_seconds =
      kUnitSeconds + kUnitSecondsPerWarpedScene * static_cast<double>(std::count(
                                                      layout.observation_warped.begin(), layout.observation_warped.end(), true));
  std::size_t index = 0;
  for (auto const& [cell, site_list] : unit_sites) {
    std::int64_t const x0 = (cell % cols) * ux, y0 = (cell / cols) * uy;
    std::int64_t const w = std::min(ux, grid.width - x0), h = std::min(uy, grid.height - y0);
    double const pixels = static_cast<double>(w) * static_cast<double>(h);
    // A composited epoch's scenes that meet the unit: each of their pixels there is an observation.
    double observations = 0, observation_seconds = 0;
    std::size_t scenes = layout.observation_footprints.empty() ? inputs.size() : 0;
    for (std::size_t k = 0; k < layout.observation_footprints.size(); ++k) {
      auto const n = static_cast<double>(
          intersection(layout.observation_footprints[k], TileWindow{0, x0, y0, static_cast<std::int32_t>(w),
                                                                     static_cast<std::int32_t>(h)})
              .pixel_count());
      if (n == 0) continue;
      observations += n;
      observation_seconds +=
          n / (layout.observation_warped[k] ? kWarpedObservationsPerSecond : kObservationsPerSecond);
      ++scenes;
    }
    // Without full rasters a unit reads only its 512-px tiles that meet a site's window
    // (assess_command.cpp, keep_tiles_meeting): the share of its pixels they hold.
    double read_share = 1.0;
    if (keep != "units") {
      double read = 0;
      for (std::int64_t ty = y0; ty < y0 + h; ty += 512)
        for (std::int64_t tx = x0; tx < x0 + w; tx += 512) {
          TileWindow const tile{0, tx, ty, static_cast<std::int32_t>(std::min<std::int64_t>(512, x0 + w - tx)),
                                static_cast<std::int32_t>(std::min<std::int64_t>(512, y0 + h - ty))};
          bool const near = std::any_of(site_list.begin(), site_list.end(), [&](std::size_t s) {
            return layout.site_windows[s] && overlaps(*layout.site_windows[s], tile);
          });
          if (near) read += static_cast<double>(tile.pixel_count());
        }
      read_share = read / pixels;
    }
    double const seconds =
        unit_seconds + read_share * (pixels * layout.planes_read / kInputPixelsPerSecond + observation_seconds);
    // UInt16 scenes, before compression
    double const bytes = read_share * (pixels * layout.planes_read * 2.0 + observations * layout.observation_planes * 2.0);
    ojson id_source{{"reclaim", RECLAIM_VERSION}, {"job", doc["job"]["sha256"]}, {"sites", doc["sites"]["sha256"]},
                    {"inputs", inputs},          {"inventories", inventories}, {"epoch_items", epochs},
                    {"window", {x0, y0, w, h}},  {"site_list", site_list},
                    {"keep_rasters", keep}};
    std::string const id = io::sha256_hex(id_source.dump()).substr(0, 16);
    units.push_back({{"index", index++},
                     {"id", id},
                     {"window", {x0, y0, w, h}},
                     {"sites", site_list},
                     {"scenes", scenes},
                     {"estimate", {{"read_bytes", bytes}, {"seconds", seconds}}}});
    total_seconds += seconds;
    total_bytes += bytes;
  }
  if (units.empty())
    throw input_error(sites.string() + ": no site lies on the grid of the epochs (" + std::to_string(grid.width) + "x" +
                      std::to_string(grid.height) + "): nothing to plan");
  doc["units"] = units;
  doc["totals"] = {{"units", units.size()}, {"sites", layout.site_ids.size()}, {"sites_on_grid", placed},
                   {"read_bytes", total_bytes}, {"seconds_one_worker", total_seconds}};

  // The plan folder: refused when a plan is there already, unless --overwrite.
  auto const plan_path = run_dir / kPlanName;
  if (fs::exists(plan_path) && !r.count("overwrite"))
    throw io_error(plan_path.string() + ": exists already (another plan); give --overwrite to replace it");
  std::error_code ec;
  fs::create_directories(run_dir / "units", ec);
  if (ec) throw io_error(run_dir.string() + ": cannot create the run folder (" + ec.message() + ")");
  auto lock = io::lock_outputs(run_dir, {});
  write_units_geojson(run_dir / kUnitsGeojson, units, doc["grid"]);
  io::write_file_atomically(plan_path, doc.dump(2) + "\n");

  std::string summary = std::to_string(units.size()) + " units of " + std::to_string(ux) + "x" + std::to_string(uy) +
                        " px for " + std::to_string(placed) + " of " + std::to_string(layout.site_ids.size()) +
                        " sites, " + std::to_string(inputs.size()) + " scene files, " + human_bytes(total_bytes) +
                        " to read; estimated " + human_seconds(total_seconds) + " on 1 worker, " +
                        human_seconds(total_seconds / 16) + " on 16";
  log.event("plan", {{"run", run_dir.string()}, {"totals", doc["totals"]}}, summary);
  std::printf("%s\n%s\n%s\n", plan_path.string().c_str(), (run_dir / kUnitsGeojson).string().c_str(), summary.c_str());
  return 0;
}

namespace {

/// The children of `reclaim run --jobs`, for the signal handler to pass SIGINT/SIGTERM on.
constexpr std::size_t kMaxJobs = 256;
pid_t g_jobs[kMaxJobs];
volatile sig_atomic_t g_job_count = 0;

void forward_stop_signal(int signal) {
  request_stop(signal);
  for (sig_atomic_t k = 0; k < g_job_count; ++k)
    if (g_jobs[k] > 0) ::kill(g_jobs[k], signal);
}

/// `reclaim run RUN/ --jobs N`: the plain local runner. N child processes of this same binary,
/// child k running `--shard k/N` (so the shares are those of an N-task Slurm array), each with
/// an equal share of the cores and, with --gpus, its own device through CUDA_VISIBLE_DEVICES.
/// Returns the worst exit status: a permanent failure (2, 3) before a retryable one.
int run_jobs(std::string const& run_dir, std::size_t jobs, std::vector<std::string> const& gpus,
             std::vector<std::string> const& pass_on, bool threads_given, EventLog& log) {
  if (jobs > kMaxJobs) throw usage_error("--jobs " + std::to_string(jobs) + ": at most " + std::to_string(kMaxJobs));
  auto const exe = fs::read_symlink("/proc/self/exe").string();
  unsigned const cores = std::max(1u, std::thread::hardware_concurrency());
  std::string const threads = std::to_string(std::max<std::size_t>(1, cores / jobs));

  g_job_count = 0;
  for (std::size_t k = 0; k < jobs && !stop_requested(); ++k) {
    std::vector<std::string> args{exe, "run", run_dir, "--shard", std::to_string(k) + "/" + std::to_string(jobs)};
    if (!threads_given) args.insert(args.end(), {"--threads", threads});
    args.insert(args.end(), pass_on.begin(), pass_on.end());
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::string_view(*e).rfind("CUDA_VISIBLE_DEVICES=", 0) != 0 || gpus.empty()) env.emplace_back(*e);
    if (!gpus.empty()) env.push_back("CUDA_VISIBLE_DEVICES=" + gpus[k % gpus.size()]);
    std::vector<char*> argv_c, env_c;
    for (auto& a : args) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    for (auto& e : env) env_c.push_back(e.data());
    env_c.push_back(nullptr);
    pid_t pid = 0;
    if (int const err = posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv_c.data(), env_c.data())) {
      forward_stop_signal(SIGTERM);
      throw io_error(exe + ": cannot start job " + std::to_string(k) + " (" + std::strerror(err) + ")");
    }
    g_jobs[k] = pid;
    g_job_count = static_cast<sig_atomic_t>(k + 1);
    log.event("job_start", {{"job", k}, {"pid", pid}},
              "job " + std::to_string(k) + ": shard " + std::to_string(k) + "/" + std::to_string(jobs) + " (pid " +
                  std::to_string(pid) + (gpus.empty() ? "" : ", CUDA_VISIBLE_DEVICES=" + gpus[k % gpus.size()]) + ")");
  }
  int worst = 0;
  for (sig_atomic_t k = 0; k < g_job_count; ++k) {
    int st = 0;
    while (waitpid(g_jobs[k], &st, 0) < 0 && errno == EINTR) {
    }
    int const rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (rc != 0) log.warning("job " + std::to_string(k) + " (shard " + std::to_string(k) + "/" + std::to_string(jobs) +
                             ") exited with " + std::to_string(rc));
    bool const permanent = rc == 2 || rc == 3, worst_permanent = worst == 2 || worst == 3;
    if (rc != 0 && (permanent > worst_permanent || (permanent == worst_permanent && rc > worst))) worst = rc;
  }
  g_job_count = 0;
  if (int const sig = stop_requested()) throw interrupted_error(sig);
  return worst;
}

void run_unit(Plan const& plan, std::size_t i, RasterKeep keep, std::vector<std::string> const& pass_on, EventLog& log,
              std::size_t& ran, std::size_t& skipped);

}  // namespace

int run_main(int argc, char** argv) {
  cxxopts::Options options("reclaim run", "Run units of a national plan (reclaim plan): each assesses its window "
                                          "of the grid and writes its sites' exact partial results");
  options.add_options()
      ("run", "the run folder (reclaim plan --out)", cxxopts::value<std::string>())
      ("unit", "one unit I (0-based)", cxxopts::value<std::string>())
      ("units", "units I to J", cxxopts::value<std::string>())
      ("shard", "share K of N (0-based), balanced by estimated cost; default: from SLURM_ARRAY_TASK_ID / "
                "SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX / RECLAIM_SHARD_COUNT, else every unit",
       cxxopts::value<std::string>())
      ("device", "auto, cpu, cuda or cuda:N", cxxopts::value<std::string>())
      ("threads", "CPU compute threads (0: one per core)", cxxopts::value<std::string>())
      ("readers", "reader (decode) threads", cxxopts::value<std::string>())
      ("memory-budget", "host memory budget, e.g. 2G", cxxopts::value<std::string>())
      ("jobs", "local runner: N processes, process k running --shard k/N, each with 1/N of the cores",
       cxxopts::value<std::string>())
      ("gpus", "with --jobs: CUDA devices to share out, one per process (e.g. 0,1,2,3; --jobs defaults to "
               "their number)", cxxopts::value<std::string>())
      ("pending", "print the units of the selection that are not complete, one per line, and run nothing")
      ("pending-shards", "print the shards K of N (comma-separated, for sbatch --array) that hold units "
                         "not complete, and run nothing", cxxopts::value<std::string>())
      ("log-format", "text or json", cxxopts::value<std::string>()->default_value("text"))
      ("quiet", "no progress or info lines")
      ("h,help", "this help");
  // SIGINT/SIGTERM from the start: the run stops between units or at a unit's next tile
  // boundary (each unit's pass installs its own handler), and --jobs passes them on.
  struct sigaction action {};
  action.sa_handler = forward_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  auto const parsed = parse_run_folder_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (r.count("unit") + r.count("units") + r.count("shard") > 1) throw usage_error("give one of --unit, --units, --shard");
  auto log = event_log_of(r);
  auto const plan = read_plan(r["run"].as<std::string>());
  if (r.count("pending-shards")) {
    if (r.count("unit") + r.count("units") + r.count("shard") + r.count("jobs") + r.count("pending"))
      throw usage_error("--pending-shards N takes no other selection");
    auto const n = parse_count(r["pending-shards"].as<std::string>(), "--pending-shards");
    if (n == 0) throw usage_error("--pending-shards 0: expected one shard or more");
    std::string list;
    for (std::size_t k = 0; k < n; ++k) {
      auto const share = shard_units(plan, k, n);
      if (std::any_of(share.begin(), share.end(), [&](std::size_t i) { return !unit_complete(plan, i); }))
        list += (list.empty() ? "" : ",") + std::to_string(k);
    }
    std::printf("%s\n", list.c_str());
    return 0;
  }
  auto const pass_on =
      passed_options(r, {"device", "threads", "readers", "memory-budget", "log-format", "quiet"});
  if (r.count("jobs") || r.count("gpus")) {
    if (r.count("unit") + r.count("units") + r.count("shard") + r.count("pending"))
      throw usage_error("--jobs runs the whole plan: give no --unit, --units, --shard or --pending with it");
    std::vector<std::string> gpus;
    if (r.count("gpus")) {
      std::stringstream list(r["gpus"].as<std::string>());
      for (std::string g; std::getline(list, g, ',');)
        if (!g.empty()) gpus.push_back(g);
      if (gpus.empty()) throw usage_error("--gpus: expected a list of devices, e.g. 0,1");
    }
    std::size_t const jobs = r.count("jobs") ? parse_count(r["jobs"].as<std::string>(), "--jobs") : gpus.size();
    if (jobs == 0) throw usage_error("--jobs 0: expected one process or more");
    check_inputs_unchanged(plan);
    return run_jobs(r["run"].as<std::string>(), jobs, gpus, pass_on, r.count("threads") > 0, log);
  }
  auto const units = selected_units(r, plan, log);
  if (r.count("pending")) {
    for (auto const i : units)
      if (!unit_complete(plan, i)) std::printf("%zu\n", i);
    return 0;
  }
  check_inputs_unchanged(plan);
  auto const keep_name = plan.doc.at("keep_rasters").get<std::string>();
  RasterKeep const keep = keep_name == "units"   ? RasterKeep::units
                          : keep_name == "sites" ? RasterKeep::sites
                                                 : RasterKeep::none;
  // The units of one process reuse the memory of their tile buffers: glibc would hand blocks of
  // over 32 MB back to the kernel (mmap) and trim the heap after each unit, and the next unit
  // page-faults them in again, about 50 ms of system time per 1024-px unit
  // (bench/results/national-amd-epyc-2c.md). The memory budget still bounds what is in use.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed threshold on 64-bit
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  std::size_t ran = 0, skipped = 0;
  // A retryable failure (I/O, device) of one unit does not stop the others: the process ends
  // with that failure's code once every unit has had its turn, so a retry reruns only the failed.
  std::vector<std::size_t> failed;
  bool device_failed = false;
  for (auto const i : units) {
    throw_if_stop_requested();
    try {
      run_unit(plan, i, keep, pass_on, log, ran, skipped);
    } catch (io_error const& e) {
      log.warning("unit " + std::to_string(i) + " failed (retryable): " + e.what());
      failed.push_back(i);
    } catch (cuda_error const& e) {
      log.warning("unit " + std::to_string(i) + " failed (retryable, device): " + e.what());
      failed.push_back(i);
      device_failed = true;
    }
  }
  log.event("units_run", {{"run", ran}, {"complete_already", skipped}, {"failed", failed}},
            std::to_string(ran) + " unit" + (ran == 1 ? "" : "s") + " run, " + std::to_string(skipped) +
                " complete already" + (failed.empty() ? "" : ", " + std::to_string(failed.size()) + " failed"));
  if (!failed.empty()) {
    std::string list;
    for (auto const i : failed) list += (list.empty() ? "" : ", ") + std::to_string(i);
    std::string const message = plan.run_dir.string() + ": unit" + (failed.size() == 1 ? " " : "s ") + list +
                                " failed (retryable: run again to rerun only the units not complete)";
    if (device_failed) throw cuda_error(message);
    throw io_error(message);
  }
  return 0;
}

namespace {

/// One unit of `reclaim run`: skipped when complete, else assessed, its done record written last.
void run_unit(Plan const& plan, std::size_t i, RasterKeep keep, std::vector<std::string> const& pass_on, EventLog& log,
              std::size_t& ran, std::size_t& skipped) {
  auto const& u = plan.unit(i);
  auto const dir = plan.unit_dir(i);
  std::string const name = "unit " + std::to_string(i) + " (" + u.at("id").get<std::string>() + ")";
  if (unit_complete(plan, i)) {
    remove_stale_temporaries(dir);
    log.event("unit_complete", {{"unit", i}, {"id", u.at("id")}}, name + ": complete already, nothing to do");
    ++skipped;
    return;
  }
  auto const started = std::chrono::steady_clock::now();
  // An earlier attempt's record goes first: the unit is complete again only once this run ends.
  std::error_code ec;
  fs::remove(dir / kDoneName, ec);
  injected_fault(i);
  AssessUnit unit;
  auto const w = u.at("window").get<std::vector<std::int64_t>>();
  unit.window.x0 = w[0];
  unit.window.y0 = w[1];
  unit.window.width = static_cast<std::int32_t>(w[2]);
  unit.window.height = static_cast<std::int32_t>(w[3]);
  unit.sites = u.at("sites").get<std::vector<std::size_t>>();
  unit.partial = dir / kPartialName;
  unit.crops = dir / kCropsName;
  unit.keep_rasters = keep;
  std::vector<std::string> args{"assess", "--job", plan.job.string(), "--out", dir.string(), "--overwrite"};
  args.insert(args.end(), pass_on.begin(), pass_on.end());
  auto const values = parse_plan_options(args);
  log.event("unit_start", {{"unit", i}, {"id", u.at("id")}}, name + ": running");
  (void)run_assess_command(values, args, &unit, nullptr);
  remove_stale_temporaries(dir);
  // The done record last: its outputs' sizes and checksums, so a later run can trust them.
  ojson outputs = ojson::array();
  std::vector<fs::path> files{unit.partial};
  if (fs::exists(unit.crops)) files.push_back(unit.crops);
  if (keep != RasterKeep::none)  // the unit's COGs (with "sites", under windows/NNN/)
    for (auto const& entry : fs::recursive_directory_iterator(dir))
      if (entry.path().extension() == ".tif" && entry.path().filename().string()[0] != '.') files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (auto const& f : files) {
    auto const d = io::digest_file(f);
    outputs.push_back({{"path", fs::relative(f, plan.run_dir).string()}, {"bytes", d.bytes}, {"sha256", d.sha256}});
  }
  ojson done{{"unit", i},
             {"unit_id", u.at("id")},
             {"window", u.at("window")},
             {"sites", u.at("sites")},
             {"outputs", outputs},
             {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
             {"device", values["device"].as<std::string>()},
             {"reclaim", RECLAIM_VERSION}};
  io::write_file_atomically(dir / kDoneName, done.dump(2) + "\n");
  log.event("unit_done", {{"unit", i}, {"id", u.at("id")}}, name + ": complete");
  ++ran;
}

}  // namespace

/// The category names of `source`'s first band (a class raster's, kept in its .aux.xml), onto
/// the first band of the VRT `vrt` (written into the VRT when it is closed).
void copy_category_names(std::string const& source, GDALDatasetH vrt) {
  GDALDatasetH src = GDALOpen(source.c_str(), GA_ReadOnly);
  if (!src) return;  // the VRT build read it: a failure here only costs the names
  // GDAL 3.6's GeoTIFF band answers GetCategoryNames from its .aux.xml only once something else
  // has loaded it (the band's metadata does).
  (void)GDALGetMetadata(GDALGetRasterBand(src, 1), nullptr);
  if (char** names = GDALGetRasterCategoryNames(GDALGetRasterBand(src, 1)))
    GDALSetRasterCategoryNames(GDALGetRasterBand(vrt, 1), names);
  GDALClose(src);
}

/// `reclaim merge --cog`: the national VRT `vrt` as one COG. SPARSE_OK: the blocks no unit wrote
/// (the VRT says so without reading them) are not stored, so a national grid that is mostly
/// empty makes a file the size of its sites. Overviews as the COG driver makes them (nearest for
/// the class raster, average for the others).
void write_national_cog(fs::path const& vrt, fs::path const& out) {
  GDALDatasetH src = GDALOpen(vrt.c_str(), GA_ReadOnly);
  if (!src) throw io_error(vrt.string() + ": cannot open the national VRT");
  bool const classes = GDALGetRasterDataType(GDALGetRasterBand(src, 1)) == GDT_Byte;
  std::vector<std::string> args{"-of",         "COG",           "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=YES",
                                "-co",         "BIGTIFF=IF_SAFER", "-co", "NUM_THREADS=ALL_CPUS", "-co",
                                "SPARSE_OK=TRUE", "-co", classes ? "RESAMPLING=NEAREST" : "RESAMPLING=AVERAGE"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  GDALTranslateOptions* o = GDALTranslateOptionsNew(argv.data(), nullptr);
  auto const tmp = io::hidden_temp_path(out, ".tif");
  int err = 0;
  GDALDatasetH ds = GDALTranslate(tmp.c_str(), src, o, &err);
  GDALTranslateOptionsFree(o);
  GDALClose(src);
  // Category names land in <name>.aux.xml (GDAL's PAM, written on close): it moves with the file.
  fs::path const tmp_aux = tmp.string() + ".aux.xml";
  std::error_code ec;
  if (!ds || err) {
    if (ds) GDALClose(ds);
    fs::remove(tmp, ec);
    fs::remove(tmp_aux, ec);
    throw io_error(out.string() + ": cannot write the national COG");
  }
  GDALClose(ds);
  if (fs::exists(tmp_aux, ec)) {
    fs::rename(tmp_aux, out.string() + ".aux.xml", ec);
    if (ec) throw io_error(out.string() + ".aux.xml: cannot rename from " + tmp_aux.string() + " (" + ec.message() + ")");
  }
  io::commit_temp(tmp, out);
}

int national_merge_main(int argc, char** argv) {
  cxxopts::Options options("reclaim merge", "Merge the units of a national run (reclaim plan, reclaim run) into "
                                            "sites.csv, sites.gpkg, summary.json, report.html and manifest.json");
  options.add_options()
      ("run", "the run folder", cxxopts::value<std::string>())
      ("allow-missing", "merge although units are missing; they are listed in summary.json and the manifest")
      ("cog", "also a COG of each national raster (RUN/<name>.tif beside its VRT; sparse: the blocks no unit "
              "wrote are not stored)")
      ("threads", "CPU threads", cxxopts::value<std::string>())
      ("log-format", "text or json", cxxopts::value<std::string>()->default_value("text"))
      ("quiet", "no progress or info lines")
      ("h,help", "this help");
  add_overwrite_option(options);
  auto const parsed = parse_run_folder_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  auto log = event_log_of(r);
  auto const plan = read_plan(r["run"].as<std::string>());
  check_inputs_unchanged(plan);

  std::vector<std::string> missing;
  std::vector<std::size_t> complete;
  for (std::size_t i = 0; i < plan.unit_count(); ++i) {
    std::string why;
    if (unit_complete(plan, i, &why)) complete.push_back(i);
    else missing.push_back(std::to_string(i) + (why.empty() ? "" : " (" + why + ")"));
  }
  if (!missing.empty() && !r.count("allow-missing")) {
    std::string list;
    for (std::size_t k = 0; k < missing.size() && k < 20; ++k) list += (k ? ", " : "") + missing[k];
    if (missing.size() > 20) list += ", and " + std::to_string(missing.size() - 20) + " more";
    throw input_error(plan.run_dir.string() + ": " + std::to_string(missing.size()) + " of " +
                      std::to_string(plan.unit_count()) + " units are not complete: " + list +
                      " (run them with reclaim run, or merge anyway with --allow-missing)");
  }
  for (auto const& m : missing) log.warning("unit " + m + " is missing: its pixels are not in the results");

  // Every complete unit's accumulators, merged zone by zone into the national sites (exact).
  std::size_t const sites = plan.doc.at("sites").at("count").get<std::size_t>();
  AssessMerge merge;
  std::vector<ZonalProduct> products;
  for (auto const i : complete) {
    auto const path = plan.unit_dir(i) / kPartialName;
    auto const part = io::read_zonal_partial(path);
    auto const unit_sites = plan.unit(i).at("sites").get<std::vector<std::size_t>>();
    if (part.zones.size() != unit_sites.size() || part.results.empty())
      throw input_error(path.string() + ": holds " + std::to_string(part.zones.size()) + " sites, the plan says " +
                        std::to_string(unit_sites.size()));
    if (merge.zonal.empty()) {
      products = part.products;
      for (std::size_t k = 0; k < products.size(); ++k)
        merge.zonal.push_back(ProductAccumulators::make(products[k], sites, part.results[k].class_unit_m2));
    }
    if (part.results.size() != merge.zonal.size())
      throw input_error(path.string() + ": another set of products than the other units'");
    for (std::size_t k = 0; k < part.results.size(); ++k)
      for (std::size_t z = 0; z < unit_sites.size(); ++z) merge.zonal[k].merge_zone(part.results[k], z, unit_sites[z]);
  }

  // Pictures: every unit's pieces of the sites' crops and of the overview, pasted into whole
  // crops (the samples a single run captures).
  for (auto const i : complete) {
    auto const path = plan.unit_dir(i) / kCropsName;
    if (!fs::exists(path)) continue;
    for (auto const& piece : io::read_crop_pieces(path)) {
      if (piece.key == io::kOverviewCropKey) {
        if (!merge.overview) merge.overview.emplace();
        io::paste_crop_piece(*merge.overview, piece);
      } else {
        if (piece.key >= sites) throw input_error(path.string() + ": a piece of site " + std::to_string(piece.key) +
                                                  ", the sites file has " + std::to_string(sites));
        io::paste_crop_piece(merge.site_crops[piece.key], piece);
      }
    }
  }

  // National rasters: a VRT of the units' COGs, one per raster name.
  std::map<std::string, std::vector<std::string>> rasters;
  for (auto const i : complete) {
    auto const d = read_json_file(plan.unit_dir(i) / kDoneName, "done record");
    for (auto const& o : d.at("outputs")) {
      fs::path const p = o.at("path").get<std::string>();
      if (p.extension() == ".tif") rasters[p.filename().string()].push_back((plan.run_dir / p).string());
    }
  }
  std::vector<std::pair<fs::path, std::vector<std::string>>> vrts;
  bool const cog = r.count("cog") > 0;
  if (cog && rasters.empty())
    throw usage_error("--cog: the plan keeps no raster (keep-rasters = \"none\"): plan with keep-rasters sites or units");
  for (auto const& [name, files] : rasters) {
    vrts.emplace_back(plan.run_dir / (fs::path(name).stem().string() + ".vrt"), files);
    merge.rasters.push_back(vrts.back().first);
    if (cog) merge.rasters.push_back(plan.run_dir / name);
  }
  merge.missing_units = missing;
  merge.run = {{"plan", (plan.run_dir / kPlanName).string()},
               {"units", plan.unit_count()},
               {"complete", complete.size()},
               {"missing", missing}};

  std::vector<std::string> args{"assess", "--job", plan.job.string(), "--out", plan.run_dir.string()};
  if (r.count("overwrite")) args.push_back("--overwrite");
  auto const more = passed_options(r, {"threads", "log-format", "quiet"});
  args.insert(args.end(), more.begin(), more.end());
  auto const values = parse_plan_options(args);
  if (merge.zonal.empty()) throw input_error(plan.run_dir.string() + ": no unit is complete: nothing to merge");
  // The VRTs once the outputs are claimed (run_assess_command lists them in the manifest).
  // Each VRT spans the whole national grid (pixel x, y of the VRT is pixel x, y of the plan's
  // grid), whatever part of it the units' COGs cover.
  auto const gt = plan.doc.at("grid").at("geotransform").get<std::vector<double>>();
  double const gw = plan.doc.at("grid").at("width").get<double>(), gh = plan.doc.at("grid").at("height").get<double>();
  std::vector<std::string> vrt_args{"-te",
                                    io::shortest_text(gt[0]),
                                    io::shortest_text(gt[3] + gh * gt[5]),
                                    io::shortest_text(gt[0] + gw * gt[1]),
                                    io::shortest_text(gt[3]),
                                    "-tr",
                                    io::shortest_text(gt[1]),
                                    io::shortest_text(-gt[5])};
  merge.write_rasters = [&vrts, &vrt_args, cog] {
  for (auto const& [vrt, files] : vrts) {
    std::vector<char const*> srcs;
    for (auto const& f : files) srcs.push_back(f.c_str());
    auto const tmp = io::hidden_temp_path(vrt, ".vrt");
    std::vector<char*> vrt_argv;
    for (auto& a : vrt_args) vrt_argv.push_back(const_cast<char*>(a.c_str()));
    vrt_argv.push_back(nullptr);
    GDALBuildVRTOptions* o = GDALBuildVRTOptionsNew(vrt_argv.data(), nullptr);
    int err = 0;
    GDALDatasetH ds = GDALBuildVRT(tmp.string().c_str(), static_cast<int>(srcs.size()), nullptr, srcs.data(), o, &err);
    GDALBuildVRTOptionsFree(o);
    if (!ds || err) {
      if (ds) GDALClose(ds);
      fs::remove(tmp);
      throw io_error(vrt.string() + ": cannot build the national VRT");
    }
    copy_category_names(files.front(), ds);  // the class raster's, for QGIS and gdalinfo
    GDALClose(ds);
    io::commit_temp(tmp, vrt);
    if (cog) write_national_cog(vrt, fs::path(vrt).replace_extension(".tif"));
  }
  };
  return run_assess_command(values, args, nullptr, &merge);
}

}  // namespace reclaim::cli
