// reclaim assess: scenes of two epochs + site polygons -> rasters, per-site metrics, grades,
// pictures, an HTML report and a manifest, from ONE pass over the tiles.
#include <cxxopts.hpp>

#include <openssl/evp.h>
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/change_inputs.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/assess.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/picture.hpp"
#include "reclaim/io/report.hpp"
#include "reclaim/io/site_crops.hpp"
#include "reclaim/io/zonal.hpp"
#include "io/output_file.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string utc_now() {
  auto const t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// SHA-256 of a file, hex (OpenSSL's EVP, hardware-accelerated where the CPU has SHA extensions).
std::string sha256_file(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path.string() + ": cannot read for its checksum");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buf(std::size_t{1} << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  std::ostringstream hex;
  for (unsigned i = 0; i < len; ++i) hex << std::hex << std::setw(2) << std::setfill('0') << int{digest[i]};
  return hex.str();
}

ojson file_entry(fs::path const& path, std::string const& role) {
  std::error_code ec;
  auto const bytes = fs::file_size(path, ec);
  return {{"role", role}, {"path", path.string()}, {"bytes", ec ? 0 : bytes}, {"sha256", sha256_file(path)}};
}

/// Every file a scene reads (band files, the mask), once each.
std::vector<fs::path> scene_files(io::SceneSpec const& scene) {
  std::vector<fs::path> files;
  auto add = [&files](fs::path const& f) {
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  };
  for (auto const& b : scene.bands)
    if (b) add(b->file);
  if (scene.mask) add(scene.mask->file);
  return files;
}

/// A job file (JSON or TOML) as command-line arguments: key = option name, true = a flag,
/// arrays = the option repeated. Command-line arguments come after them, so they win.
std::vector<std::string> job_arguments(fs::path const& path) {
  std::ifstream in(path);
  if (!in) throw input_error("job file '" + path.string() + "': cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json doc;
  try {
    if (path.extension() == ".toml") {
      std::stringstream js;
      js << toml::json_formatter{toml::parse(ss.str(), path.string())};
      doc = nlohmann::json::parse(js.str());
    } else {
      doc = nlohmann::json::parse(ss.str());
    }
  } catch (std::exception const& e) {
    throw input_error("job file '" + path.string() + "': " + e.what());
  }
  if (!doc.is_object()) throw input_error("job file '" + path.string() + "': expected a table of options");
  std::vector<std::string> args;
  auto scalar = [&](nlohmann::json const& v, std::string const& key) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    throw input_error("job file '" + path.string() + "': option '" + key + "' must be text, a number or true");
  };
  for (auto const& [key, value] : doc.items()) {
    if (key == "job") throw input_error("job file '" + path.string() + "': a job file cannot name another");
    if (value.is_boolean()) {
      if (value.get<bool>()) args.push_back("--" + key);
    } else if (value.is_array()) {
      for (auto const& v : value) {
        args.push_back("--" + key);
        args.push_back(scalar(v, key));
      }
    } else {
      args.push_back("--" + key);
      args.push_back(scalar(value, key));
    }
  }
  return args;
}

std::vector<double> number_list(std::string const& text, std::string const& option) {
  std::vector<double> out;
  for (auto const& item : split(text, ',')) out.push_back(parse_float(item, option));
  return out;
}

std::string hex_color(io::Rgba const& c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

io::Rgba grade_color(std::string const& grade) {
  if (grade == "A") return {0, 104, 55, 230};
  if (grade == "B") return {102, 189, 99, 230};
  if (grade == "C") return {254, 224, 139, 230};
  if (grade == "D") return {244, 109, 67, 230};
  if (grade == "E") return {165, 0, 38, 230};
  return {150, 150, 150, 230};  // n/a
}

/// Sends every tile to several sinks in order (all on the writer thread).
class FanoutSink final : public TileSink {
 public:
  explicit FanoutSink(std::vector<TileSink*> sinks) : m_sinks(std::move(sinks)) {}
  void write(TileWindow const& w, float const* planes, int plane_count) override {
    for (auto* s : m_sinks) s->write(w, planes, plane_count);
  }

 private:
  std::vector<TileSink*> m_sinks;
};

/// Planes captured for the pictures, in Crop::planes order.
enum CropPlane { kRedBefore, kGreenBefore, kBlueBefore, kRedAfter, kGreenAfter, kBlueAfter, kNdviBefore, kNdviAfter,
                 kClass, kCropPlanes };

io::Georef crop_georef(Grid const& grid, io::Crop const& c) {
  auto const& gt = grid.geotransform;
  io::Georef g;
  g.geotransform = {gt[0] + gt[1] * static_cast<double>(c.window.x0), gt[1] * c.step, 0.0,
                    gt[3] + gt[5] * static_cast<double>(c.window.y0), 0.0, gt[5] * c.step};
  g.crs_wkt = grid.crs_wkt;
  return g;
}

/// argv with a --job file's options first and the command line's after (later values win).
std::vector<std::string> arguments_with_job(int argc, char** argv, std::optional<fs::path>& job) {
  std::vector<std::string> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    if (a == "--job" && i + 1 < argc) {
      job = argv[++i];
    } else if (a.rfind("--job=", 0) == 0) {
      job = a.substr(6);
    } else {
      continue;
    }
    auto const from_job = job_arguments(*job);
    args.insert(args.begin() + 1, from_job.begin(), from_job.end());
  }
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    if (a == "--job") {
      ++i;
      continue;
    }
    if (a.rfind("--job=", 0) == 0) continue;
    args.push_back(a);
  }
  return args;
}

/// A site's picture window: its bounding box plus max(8 px, 15 % of the longer side), clipped
/// to the grid; nullopt for a site without geometry or outside the scenes.
std::optional<TileWindow> picture_window(Grid const& grid, io::Zone const& z) {
  if (z.parts.empty()) return std::nullopt;
  auto const& gt = grid.geotransform;
  double const xa = (z.bbox[0] - gt[0]) / gt[1], xb = (z.bbox[2] - gt[0]) / gt[1];
  double const ya = (z.bbox[1] - gt[3]) / gt[5], yb = (z.bbox[3] - gt[3]) / gt[5];
  double const margin = std::max(8.0, 0.15 * std::max(std::abs(xb - xa), std::abs(yb - ya)));
  auto const x0 = static_cast<std::int64_t>(std::max(0.0, std::floor(std::min(xa, xb) - margin)));
  auto const x1 = static_cast<std::int64_t>(std::min<double>(grid.width, std::ceil(std::max(xa, xb) + margin)));
  auto const y0 = static_cast<std::int64_t>(std::max(0.0, std::floor(std::min(ya, yb) - margin)));
  auto const y1 = static_cast<std::int64_t>(std::min<double>(grid.height, std::ceil(std::max(ya, yb) + margin)));
  if (x1 <= x0 || y1 <= y0) return std::nullopt;
  TileWindow w;
  w.x0 = x0;
  w.y0 = y0;
  w.width = static_cast<std::int32_t>(x1 - x0);
  w.height = static_cast<std::int32_t>(y1 - y0);
  return w;
}

/// Writes one site's five pictures from its crop; returns their captions and relative paths.
ojson write_site_pictures(fs::path const& picture_dir, std::size_t site, io::Crop const& crop, Grid const& grid,
                          ChangeInputs const& in) {
  char stem_buf[32];
  std::snprintf(stem_buf, sizeof stem_buf, "site-%05zu", site + 1);
  std::string const stem = stem_buf;
  auto const geo = crop_georef(grid, crop);
  auto span = [&crop](int k) { return std::span<float const>(crop.planes[static_cast<std::size_t>(k)]); };
  // One stretch for both epochs, so colour differences are real differences.
  auto const stretch = io::percentile_stretch(span(kRedBefore), span(kGreenBefore), span(kBlueBefore),
                                              span(kRedAfter), span(kGreenAfter), span(kBlueAfter));
  ojson list = ojson::array();
  auto emit = [&](std::string const& suffix, std::string const& caption) {
    list.push_back({{"caption", caption}, {"path", "pictures/" + stem + "_" + suffix + ".png"}});
    return picture_dir / (stem + "_" + suffix + ".png");
  };
  io::write_rgb_png(emit("before_rgb", "true colour " + in.before.label), crop.width, crop.height, span(kRedBefore),
                    span(kGreenBefore), span(kBlueBefore), stretch, geo);
  io::write_rgb_png(emit("after_rgb", "true colour " + in.after.label), crop.width, crop.height, span(kRedAfter),
                    span(kGreenAfter), span(kBlueAfter), stretch, geo);
  io::write_scalar_png(emit("ndvi_before", "NDVI " + in.before.label), crop.width, crop.height, span(kNdviBefore),
                       -0.2, 0.9, geo);
  io::write_scalar_png(emit("ndvi_after", "NDVI " + in.after.label), crop.width, crop.height, span(kNdviAfter), -0.2,
                       0.9, geo);
  io::write_class_png(emit("change", "change " + in.before.label + " → " + in.after.label), crop.width, crop.height,
                      span(kClass), in.scheme.colors(), geo);
  return list;
}

/// What the report shows, gathered after the pass.
struct ReportFacts {
  ChangeInputs const& in;
  io::AssessParams const& params;
  std::string sites_path;
  std::string coverage;
  ojson const& summary;
  LoadedZones const& sites;
  std::vector<io::SiteMetrics> const& metrics;
  io::ZonalTable const& table;
  std::vector<ojson> const& site_pictures;
  bool pictures;
  bool overview;
  ojson legend_classes;
  bool series;  ///< --epoch given: trend columns
};

/// The report object io::write_report_html renders (shape in include/reclaim/io/report.hpp).
ojson report_document(ReportFacts const& f) {
  auto const& in = f.in;
  auto const& ap = f.params;
  auto const& summary = f.summary;
  auto const& sites = f.sites;
  auto const& metrics = f.metrics;
  auto const& table = f.table;
  auto const& rates = ap.carbon_rates;
  ojson report;
  report["title"] = "Rehabilitation assessment " + in.before.label + " → " + in.after.label;
  report["generated"] = utc_now();
  report["run"] = ojson::array({ojson::array({"before", in.before_scene.input.string()}),
                                ojson::array({"after", in.after_scene.input.string()}),
                                ojson::array({"sites", f.sites_path}),
                                ojson::array({"years between epochs", summary["years"]}),
                                ojson::array({"coverage", f.coverage}),
                                ojson::array({"vegetated at NDVI ≥", ap.vegetated_ndvi}),
                                ojson::array({"reclaim", RECLAIM_VERSION})});
  auto const& totals = summary["totals"];
  ojson cards = ojson::array();
  for (auto const& key : {"sites", "area_ha", "revegetated_ha", "still_bare_ha", "newly_disturbed_ha",
                          "cover_before_pct", "cover_after_pct"})
    cards.push_back(ojson::array({key, totals[key]}));
  cards.push_back(ojson::array({"carbon estimate (t C)", totals["carbon_estimate_tC"]["central"]}));
  for (auto const& [grade, count] : totals["grades"].items()) cards.push_back(ojson::array({"grade " + grade, count}));
  report["summary"] = cards;
  report["columns"] = ojson::array({{{"key", "site_id"}, {"label", "Site"}},
                                    {{"key", "grade"}, {"label", "Grade"}},
                                    {{"key", "area_ha"}, {"label", "Area"}, {"unit", "ha"}},
                                    {{"key", "cover_before_pct"}, {"label", "Cover " + in.before.label}, {"unit", "%"}},
                                    {{"key", "cover_after_pct"}, {"label", "Cover " + in.after.label}, {"unit", "%"}},
                                    {{"key", "revegetated_ha"}, {"label", "Revegetated"}, {"unit", "ha"}},
                                    {{"key", "still_bare_ha"}, {"label", "Still bare"}, {"unit", "ha"}},
                                    {{"key", "newly_disturbed_ha"}, {"label", "New disturbance"}, {"unit", "ha"}},
                                    {{"key", "carbon_central_tC"}, {"label", "Carbon (est.)"}, {"unit", "t C"}},
                                    {{"key", "flags"}, {"label", "Flags"}}});
  if (f.series) {
    auto& cols = report["columns"];
    ojson slope, p;
    slope["key"] = "trend_ndvi_slope_per_yr";
    slope["label"] = "NDVI trend";
    slope["unit"] = "/yr";
    p["key"] = "trend_p";
    p["label"] = "Trend p";
    cols.insert(cols.end() - 1, slope);
    cols.insert(cols.end() - 1, p);
  }
  ojson site_list = ojson::array();
  auto const columns = io::site_metric_columns();
  for (std::size_t s = 0; s < sites.zones.size(); ++s) {
    ojson m;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      auto const& cell = table.rows[s][c];
      if (columns[c] == "grade" || columns[c] == "flags") continue;
      double const v = std::get<double>(cell);
      m[columns[c]] = std::isfinite(v) ? ojson(v) : ojson(nullptr);
    }
    site_list.push_back({{"id", sites.zones[s].id},
                         {"grade", metrics[s].grade},
                         {"flags", metrics[s].flags},
                         {"metrics", m},
                         {"pictures", f.site_pictures[s]}});
  }
  report["sites"] = site_list;
  if (f.pictures) {
    if (f.overview) report["overview"] = "pictures/overview.png";
    report["legend"] = {{"path", "pictures/legend.png"}, {"classes", f.legend_classes}};
  }
  report["notes"] = ojson::array(
      {"Carbon figures are estimates (revegetated ha × years × " + std::to_string(rates[0]).substr(0, 4) + " / " +
           std::to_string(rates[1]).substr(0, 4) + " / " + std::to_string(rates[2]).substr(0, 4) +
           " t C/ha/yr), not measurements.",
       "Overview: each site filled with its grade's colour (A dark green, B green, C yellow, D orange, E red, "
       "n/a grey) over NDVI " + in.after.label + "; the swatches beside it are the change classes of the site maps.",
       "Grades and flags follow docs/metrics.md; vegetation cover is the share of clear area with NDVI ≥ " +
           std::to_string(ap.vegetated_ndvi).substr(0, 4) + "."});
  return report;
}

/// Every option as the parser saw it: given values (repeated ones as arrays), then the defaults.
ojson option_values(cxxopts::ParseResult const& r) {
  ojson parameters;
  for (auto const& kv : r.arguments()) {
    if (parameters.contains(kv.key())) {
      if (!parameters[kv.key()].is_array()) parameters[kv.key()] = ojson::array({parameters[kv.key()]});
      parameters[kv.key()].push_back(kv.value());
    } else {
      parameters[kv.key()] = kv.value();
    }
  }
  for (auto const& kv : r.defaults())
    if (!parameters.contains(kv.key())) parameters[kv.key()] = kv.value();
  return parameters;
}

/// The parameters as the run used them: labels, years, thresholds, the grade table, the rules.
ojson resolved_parameters(ChangeInputs const& in, io::AssessParams const& ap, ojson const& years, bool pictures) {
  auto bound = [](double v, bool present) { return present ? ojson(v) : ojson(nullptr); };
  ojson grade_table = ojson::array();
  for (auto const& g : ap.grades)
    grade_table.push_back({{"name", g.grade},
                           {"min_cover_after_pct", bound(g.min_cover_after_pct, g.min_cover_after_pct > -1e299)},
                           {"max_still_bare_pct", bound(g.max_still_bare_pct, g.max_still_bare_pct < 1e299)},
                           {"min_cover_gain_pp", bound(g.min_cover_gain_pp, g.min_cover_gain_pp > -1e299)}});
  ojson rules = ojson::array();
  for (int i = 0; i < in.scheme.rules.size(); ++i) rules.push_back(io::describe_rule(in.scheme, in.scheme.rules.rule(i)));
  return {{"before_label", in.before.label},
          {"after_label", in.after.label},
          {"years", years},
          {"carbon_rates_tC_per_ha_yr", ap.carbon_rates},
          {"vegetated_ndvi", ap.vegetated_ndvi},
          {"min_valid_fraction", ap.min_valid_fraction},
          {"disturbance_min_ha", ap.disturbance_min_ha},
          {"pictures", pictures},
          {"grades", grade_table},
          {"change_rules", rules}};
}

/// File entries (role, path, bytes, SHA-256) hashed on two threads: SHA-256 runs at about
/// 1 GB/s a core, and the rasters dominate.
ojson checksummed(std::vector<std::pair<fs::path, std::string>> const& files) {
  std::vector<ojson> entries(files.size());
  auto hash_every_other = [&](std::size_t first) {
    for (std::size_t i = first; i < files.size(); i += 2) entries[i] = file_entry(files[i].first, files[i].second);
  };
  auto second_half = std::async(std::launch::async, hash_every_other, std::size_t{1});
  hash_every_other(0);
  second_half.get();
  return entries;
}

/// summary.json: the epochs, years, totals over all sites and, with a region field, per region.
ojson summary_document(ChangeInputs const& in, io::AssessParams const& ap,
                       std::vector<std::pair<double, io::SceneSpec>> const& epochs, LoadedZones const& sites,
                       std::vector<io::SiteMetrics> const& metrics, std::optional<std::string> const& region_field) {
  ojson summary;
  summary["before"] = {{"label", in.before.label}, {"path", in.before_scene.input.string()}};
  summary["after"] = {{"label", in.after.label}, {"path", in.after_scene.input.string()}};
  summary["years"] = std::isfinite(ap.years) ? ojson(ap.years) : ojson(nullptr);
  if (!epochs.empty()) {
    ojson list = ojson::array();
    for (auto const& [year, scene] : epochs) list.push_back({{"year", year}, {"path", scene.input.string()}});
    summary["epochs"] = list;
  }
  summary["totals"] = io::site_totals(metrics);
  summary["carbon_note"] = "Carbon figures are estimates: revegetated ha x years x rate (t C/ha/yr), not measurements.";
  if (region_field) {
    std::map<std::string, std::vector<io::SiteMetrics>> groups;
    for (std::size_t s = 0; s < sites.zones.size(); ++s)
      for (auto const& [name, value] : sites.zones[s].attributes)
        if (name == *region_field) groups[value].push_back(metrics[s]);
    ojson regions;
    for (auto const& [value, group] : groups) regions[value] = io::site_totals(group);
    summary["regions"] = {{"field", *region_field}, {"totals", regions}};
  }
  return summary;
}

}  // namespace

int assess_main(int argc, char** argv) {
  auto const started = std::chrono::steady_clock::now();
  std::string const started_utc = utc_now();
  std::optional<fs::path> job;
  std::vector<std::string> args = arguments_with_job(argc, argv, job);
  std::vector<char*> arg_ptrs;
  for (auto& a : args) arg_ptrs.push_back(a.data());

  cxxopts::Options options("reclaim assess",
                           "The rehabilitation assessment: scenes of two epochs and the site polygons -> rasters, "
                           "per-site metrics and grades, pictures, report.html and manifest.json, in one pass");
  add_change_input_options(options);
  options.add_options()
      ("job", "a JSON or TOML file of these options (the command line overrides it)", cxxopts::value<std::string>())
      ("sites", "the mine sites: any OGR polygon source", cxxopts::value<std::string>())
      ("layer", "layer of --sites (default: the first)", cxxopts::value<std::string>())
      ("id-field", "field holding the site id (default: the feature id)", cxxopts::value<std::string>())
      ("region-field", "field whose values group the totals in summary.json (e.g. a county)",
       cxxopts::value<std::string>())
      ("strict", "invalid site geometries are errors, not repaired")
      ("coverage", "exact (pixel fraction inside), center or all-touched",
       cxxopts::value<std::string>()->default_value("exact"))
      ("index", "also write these indices of each epoch (NDVI always)", cxxopts::value<std::string>())
      ("epoch", "an intermediate epoch YEAR=PATH for the per-site NDVI trend (repeat); the series is before, "
                "these, after", cxxopts::value<std::vector<std::string>>())
      ("years", "years between the epochs (default: from YEAR labels or YEAR.tif names)",
       cxxopts::value<double>())
      ("carbon-rates", "sequestration rates low,central,high in t C/ha/yr",
       cxxopts::value<std::string>()->default_value("1,2,3"))
      ("vegetated-ndvi", "NDVI at or above which a pixel counts as vegetated (default: the rules' ndvi_vegetated)",
       cxxopts::value<double>())
      ("min-valid-fraction", "below this share of clear data a site is flagged and not graded",
       cxxopts::value<double>()->default_value("0.5"))
      ("disturbance-min-ha", "newly disturbed hectares that raise the disturbance flag",
       cxxopts::value<double>()->default_value("0.1"))
      ("grades", "grade table (JSON or TOML, docs/metrics.md)", cxxopts::value<std::string>())
      ("pictures-max", "pictures for at most this many sites (the first in layer order); the report embeds "
                       "them, so this bounds its size", cxxopts::value<int>()->default_value("1000"))
      ("picture-size", "longest side of each site picture in pixels (bigger sites are decimated)",
       cxxopts::value<int>()->default_value("256"))
      ("no-pictures", "skip the pictures (the report then has none)");
  auto const parsed = parse_raster_command(options, static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("sites")) throw usage_error("--sites is required");
  if (!r.count("out")) throw usage_error("--out DIR is required");
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);
  std::vector<pixel::Index> extra;
  if (r.count("index"))
    for (auto i : parse_index_list(lower(r["index"].as<std::string>())))
      if (i != pixel::Index::ndvi) extra.push_back(i);
  auto const mode = parse_coverage_mode(r["coverage"].as<std::string>());
  if (!mode) throw usage_error("--coverage " + r["coverage"].as<std::string>() + ": expected exact, center or all-touched");
  auto const rates = number_list(r["carbon-rates"].as<std::string>(), "carbon-rates");
  if (rates.size() != 3 || !(rates[0] <= rates[1] && rates[1] <= rates[2]))
    throw usage_error("--carbon-rates: expected three increasing numbers LOW,CENTRAL,HIGH");
  int const picture_size = r["picture-size"].as<int>();
  if (picture_size < 16 || picture_size > 4096) throw usage_error("--picture-size: expected 16..4096");
  int const pictures_max = r["pictures-max"].as<int>();
  if (pictures_max < 0) throw usage_error("--pictures-max: expected 0 or more");
  bool const pictures = r.count("no-pictures") == 0;

  EventLog log(run.log_format, run.quiet);
  // Per-epoch outputs: NDVI, the extra indices, then the visible reflectance for the pictures.
  std::vector<pixel::Index> epoch_outputs{pixel::Index::ndvi};
  for (auto i : extra) epoch_outputs.push_back(i);  // (insert() trips a false GCC 12 -Warray-bounds)
  if (pictures)
    for (auto b : {pixel::Index::red, pixel::Index::green, pixel::Index::blue}) epoch_outputs.push_back(b);
  auto in = prepare_change_inputs(r, epoch_outputs, /*year_labels=*/true);
  auto& params = in.params;
  auto const& grid = in.grid();

  // --epoch YEAR=PATH: resolved now, so a bad epoch fails before any output exists.
  std::vector<std::pair<double, io::SceneSpec>> epochs;
  auto is_number = [](std::string const& t) {
    char* end = nullptr;
    std::strtod(t.c_str(), &end);
    return !t.empty() && end && *end == '\0';
  };
  bool const numeric_labels = is_number(in.before.label) && is_number(in.after.label);
  if (r.count("epoch")) {
    if (!numeric_labels)
      throw usage_error("--epoch needs years as the labels of --before and --after (YEAR=PATH or YEAR.tif)");
    for (auto const& text : r["epoch"].as<std::vector<std::string>>()) {
      auto const e = parse_labeled_path(text);
      if (!is_number(e.label)) throw usage_error("--epoch " + text + ": expected YEAR=PATH");
      auto scene = io::resolve_scene(e.label, e.path, sensor_options_from(r));
      io::require_bands(scene, {pixel::Index::ndvi});
      epochs.emplace_back(std::stod(e.label), std::move(scene));
    }
  }

  io::AssessParams ap;
  ap.carbon_rates = {rates[0], rates[1], rates[2]};
  ap.vegetated_ndvi = r.count("vegetated-ndvi") ? r["vegetated-ndvi"].as<double>() : in.scheme.thresholds.ndvi_vegetated;
  ap.min_valid_fraction = r["min-valid-fraction"].as<double>();
  ap.disturbance_min_ha = r["disturbance-min-ha"].as<double>();
  if (r.count("grades")) ap.grades = io::load_grade_rules(r["grades"].as<std::string>());
  ap.years = kNaN;
  if (r.count("years")) {
    ap.years = r["years"].as<double>();
  } else {
    try {
      std::size_t used_b = 0, used_a = 0;
      double const b = std::stod(in.before.label, &used_b), a = std::stod(in.after.label, &used_a);
      if (used_b == in.before.label.size() && used_a == in.after.label.size()) ap.years = a - b;
    } catch (std::exception const&) {
    }
  }
  if (!std::isfinite(ap.years))
    log.warning("years between the epochs unknown (give --years, or YEAR=PATH labels): no carbon estimate");
  else if (!(ap.years > 0))
    throw usage_error("the after epoch must be later than the before epoch (years = " + std::to_string(ap.years) + ")");

  fs::path const out_dir = output_folder(r);
  fs::path const picture_dir = out_dir / "pictures";
  if (pictures) fs::create_directories(picture_dir);

  // Outputs and plane layout: 0 class, 1 dNDVI, then each epoch's outputs.
  std::vector<io::OutputRaster> outputs{change_class_output(out_dir / "change_class.tif", in),
                                        dndvi_output(out_dir / "dndvi.tif", in)};
  int plane = 2;
  std::map<std::pair<int, pixel::Index>, int> plane_of;  // (epoch, output) -> plane
  for (int e = 0; e < 2; ++e) {
    auto& epoch = e == 0 ? params.before : params.after;
    auto const& label = e == 0 ? in.before.label : in.after.label;
    auto const& scene = e == 0 ? in.before_scene : in.after_scene;
    auto const sensor = e == 0 ? in.before_sensor.sensor : in.after_sensor.sensor;
    for (auto index : epoch_outputs) {
      epoch.outputs[epoch.output_count++] = index;
      plane_of[{e, index}] = plane;
      if (static_cast<int>(index) < pixel::kIndexCount) {  // reflectance planes feed only the pictures
        auto o = index_output(out_dir / (label + "_" + std::string(index_name(index)) + ".tif"), index, sensor,
                              scene.input);
        o.plane = plane;
        outputs.push_back(std::move(o));
      }
      ++plane;
    }
  }

  // Sites and the zonal products of the same pass.
  ZoneRequest zr;
  zr.source.path = r["sites"].as<std::string>();
  if (r.count("layer")) zr.source.layer = r["layer"].as<std::string>();
  if (r.count("id-field")) zr.source.id_field = r["id-field"].as<std::string>();
  zr.source.strict = r.count("strict") > 0;
  zr.mode = *mode;
  zr.stats = {"mean", "median"};
  auto const sites = load_zones(zr, grid.crs_wkt, log);
  if (r.count("region-field") &&
      std::find(sites.attribute_names.begin(), sites.attribute_names.end(), r["region-field"].as<std::string>()) ==
          sites.attribute_names.end())
    throw usage_error("--region-field " + r["region-field"].as<std::string>() + ": no such field in " +
                      zr.source.path.string());
  io::ZonalProduct cls;
  cls.name = "change_class";
  cls.categorical = true;
  cls.class_names = in.scheme.category_names();
  io::ZonalProduct veg_before, veg_after;
  veg_before.name = "vegetated_" + in.before.label;
  veg_after.name = "vegetated_" + in.after.label;
  veg_before.categorical = veg_after.categorical = true;
  veg_before.threshold = veg_after.threshold = ap.vegetated_ndvi;
  veg_before.plane = plane_of[{0, pixel::Index::ndvi}];
  veg_after.plane = plane_of[{1, pixel::Index::ndvi}];
  std::vector<io::ZonalProduct> products{
      cls, value_product("dndvi", 1, zr, -2.0, 2.0 + 1e-9),
      value_product("ndvi_" + in.before.label, plane_of[{0, pixel::Index::ndvi}], zr, -1.0, 1.0 + 1e-9),
      value_product("ndvi_" + in.after.label, plane_of[{1, pixel::Index::ndvi}], zr, -1.0, 1.0 + 1e-9), veg_before,
      veg_after};
  io::ZonalSink zonal(grid, sites.zones, zr.mode, is_geographic(grid.crs_wkt), products);

  PassRunner runner("assess", run, cog, log);
  auto const tiles = runner.plan(*in.source, params);

  // Pictures: each site's window plus a margin, captured as tiles pass; written when complete.
  std::vector<io::CropRequest> crops;
  std::vector<std::size_t> crop_site;
  for (std::size_t site = 0; pictures && site < sites.zones.size(); ++site) {
    if (crops.size() >= static_cast<std::size_t>(pictures_max)) {
      log.warning("pictures for the first " + std::to_string(pictures_max) + " sites only (--pictures-max)");
      break;
    }
    if (auto const w = picture_window(grid, sites.zones[site])) {
      crops.push_back(io::crop_request(*w, picture_size));
      crop_site.push_back(site);
    }
  }
  // The overview: the whole scene, decimated to at most 1024 pixels a side.
  TileWindow whole;
  whole.width = grid.width;
  whole.height = grid.height;
  std::size_t const overview_crop = crops.size();
  if (pictures) crops.push_back(io::crop_request(whole, 1024));
  std::vector<int> crop_planes(kCropPlanes);
  if (pictures) {
    crop_planes[kRedBefore] = plane_of[{0, pixel::Index::red}];
    crop_planes[kGreenBefore] = plane_of[{0, pixel::Index::green}];
    crop_planes[kBlueBefore] = plane_of[{0, pixel::Index::blue}];
    crop_planes[kRedAfter] = plane_of[{1, pixel::Index::red}];
    crop_planes[kGreenAfter] = plane_of[{1, pixel::Index::green}];
    crop_planes[kBlueAfter] = plane_of[{1, pixel::Index::blue}];
    crop_planes[kNdviBefore] = plane_of[{0, pixel::Index::ndvi}];
    crop_planes[kNdviAfter] = plane_of[{1, pixel::Index::ndvi}];
    crop_planes[kClass] = 0;
  }
  auto const colors = in.scheme.colors();
  std::vector<ojson> site_pictures(sites.zones.size(), ojson::array());
  std::optional<io::Crop> overview;
  io::SiteCropSink crop_sink(tiles.tiles, crops, crop_planes, [&](std::size_t c, io::Crop&& crop) {
    if (c == overview_crop) {
      overview = std::move(crop);
    } else {
      site_pictures[crop_site[c]] = write_site_pictures(picture_dir, crop_site[c], crop, grid, in);
    }
  });

  // Checksums of the inputs while the pass runs (they are read from the page cache anyway).
  auto input_checksums = std::async(std::launch::async, [&in, &epochs] {
    ojson list = ojson::array();
    for (auto const& f : scene_files(in.before_scene)) list.push_back(file_entry(f, "before"));
    for (auto const& f : scene_files(in.after_scene)) list.push_back(file_entry(f, "after"));
    for (auto const& [year, scene] : epochs)
      for (auto const& f : scene_files(scene)) list.push_back(file_entry(f, "epoch " + scene.label));
    return list;
  });
  FanoutSink fanout(pictures ? std::vector<TileSink*>{&zonal, &crop_sink} : std::vector<TileSink*>{&zonal});
  runner.run(in.before.label + "->" + in.after.label, *in.source, params, outputs, &fanout);

  // Intermediate epochs: one read each, NDVI per site (their pixels are not kept).
  io::AssessProducts ids;
  std::vector<std::vector<io::EpochMean>> series(sites.zones.size());
  if (numeric_labels) {  // the series always holds the two epochs of the pass
    double const y_before = std::stod(in.before.label), y_after = std::stod(in.after.label);
    for (std::size_t s = 0; s < sites.zones.size(); ++s) {
      series[s].push_back({y_before, io::value_stat(zonal.results()[ids.ndvi_before], s, "mean")});
      series[s].push_back({y_after, io::value_stat(zonal.results()[ids.ndvi_after], s, "mean")});
    }
  }
  {
    for (auto const& [year, scene] : epochs) {
      io::GdalTileSource source(scene, pixel::bands_needed(pixel::Index::ndvi), grid);
      auto fused = source.fused_params();
      fused.index_params = params.before.index_params;
      fused.outputs[fused.output_count++] = pixel::Index::ndvi;
      io::ZonalSink epoch_sink(grid, sites.zones, zr.mode, is_geographic(grid.crs_wkt),
                               {value_product("ndvi_" + scene.label, 0, zr, -1.0, 1.0 + 1e-9)});
      auto const epoch_plan = runner.plan(source, fused);
      runner.run_to_sink(scene.label, source, fused, epoch_plan, epoch_sink);
      for (std::size_t s = 0; s < sites.zones.size(); ++s)
        series[s].push_back({year, io::value_stat(epoch_sink.results()[0], s, "mean")});
    }
    for (auto& sr : series)
      std::sort(sr.begin(), sr.end(), [](io::EpochMean const& a, io::EpochMean const& b) { return a.year < b.year; });
  }

  // Per-site metrics.
  std::vector<io::SiteMetrics> metrics;
  for (std::size_t s = 0; s < sites.zones.size(); ++s)
    metrics.push_back(io::site_metrics(zonal.results(), ids, s, ap, series[s]));
  io::ZonalTable table;
  table.id_name = sites.id_name;
  table.attribute_names = sites.attribute_names;
  table.columns = io::site_metric_columns();
  for (auto const& m : metrics) table.rows.push_back(io::site_metric_cells(m));
  for (auto const& name : {"sites.csv", "sites.gpkg"}) {
    io::write_zonal_table(out_dir / name, table, sites.zones, grid.crs_wkt);
    runner.wrote(out_dir / name);
  }

  // Legend and overview.
  ojson legend_classes = ojson::array();
  auto const names = in.scheme.category_names();
  for (std::size_t k = 1; k < names.size(); ++k)
    if (!names[k].empty())
      legend_classes.push_back({{"value", k}, {"name", names[k]}, {"color", hex_color(colors[k])}});
  if (pictures) {
    (void)io::write_legend_png(picture_dir / "legend.png", names, colors);
    if (overview) {
      std::vector<std::vector<io::MapRing>> rings;
      std::vector<io::Rgba> fill;
      for (std::size_t s = 0; s < sites.zones.size(); ++s) {
        std::vector<io::MapRing> site_rings;
        for (auto const& part : sites.zones[s].parts) {
          auto to_ring = [](Ring const& ring) {
            io::MapRing out;
            for (auto const& p : ring) out.push_back({p.x, p.y});
            return out;
          };
          site_rings.push_back(to_ring(part.outer));
          for (auto const& h : part.holes) site_rings.push_back(to_ring(h));
        }
        rings.push_back(std::move(site_rings));
        fill.push_back(grade_color(metrics[s].grade));
      }
      io::OverviewBackground bg;
      bg.values = overview->planes[kNdviAfter];
      io::write_overview_png(picture_dir / "overview.png", overview->width, overview->height,
                             crop_georef(grid, *overview), rings, fill, bg);
    }
  }

  // summary.json: the run and its totals, per region when asked.
  std::optional<std::string> region_field;
  if (r.count("region-field")) region_field = r["region-field"].as<std::string>();
  ojson const summary = summary_document(in, ap, epochs, sites, metrics, region_field);
  auto write_json = [&](fs::path const& path, ojson const& doc) {
    io::write_file_atomically(path, doc.dump(2) + "\n");
    runner.wrote(path);
  };
  write_json(out_dir / "summary.json", summary);

  // report.html
  ReportFacts facts{in, ap, zr.source.path.string(), r["coverage"].as<std::string>(), summary, sites, metrics,
                    table, site_pictures, pictures, overview.has_value(), legend_classes, !epochs.empty()};
  ojson const report = report_document(facts);
  io::write_report_html(out_dir / "report.html", report);
  runner.wrote(out_dir / "report.html");

  // manifest.json: enough to reproduce the run.
  ojson manifest;
  manifest["software"] = {{"name", "reclaim"}, {"version", RECLAIM_VERSION}};
  manifest["command"] = args;
  if (job) manifest["job_file"] = job->string();
  manifest["started"] = started_utc;
  manifest["finished"] = utc_now();
  manifest["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ojson parameters = option_values(r);
  parameters["resolved"] = resolved_parameters(in, ap, summary["years"], pictures);
  manifest["parameters"] = parameters;
  ojson inputs = input_checksums.get();
  inputs.push_back(file_entry(zr.source.path, "sites"));
  if (job) inputs.push_back(file_entry(*job, "job"));
  manifest["inputs"] = inputs;
  std::vector<std::pair<fs::path, std::string>> out_files;
  for (auto const& o : outputs) out_files.emplace_back(o.path, "raster");
  for (auto const& name : {"sites.csv", "sites.gpkg", "summary.json", "report.html"})
    out_files.emplace_back(out_dir / name, "table");
  if (pictures) {
    std::vector<fs::path> pngs;
    for (auto const& entry : fs::directory_iterator(picture_dir))
      if (entry.path().extension() == ".png") pngs.push_back(entry.path());
    std::sort(pngs.begin(), pngs.end());
    for (auto const& p : pngs) out_files.emplace_back(p, "picture");
  }
  manifest["outputs"] = checksummed(out_files);
  write_json(out_dir / "manifest.json", manifest);
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
