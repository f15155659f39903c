// reclaim trend: one index per epoch over many epochs -> per-pixel trend statistics.
#include <cxxopts.hpp>
#include <gdal_priv.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/epoch_inputs.hpp"
#include "cli/pass_runner.hpp"
#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/gdal_source.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;
using pixel::TrendOutput;

namespace {

struct ProductInfo {
  TrendOutput output;
  char const* name;
  char const* description;
};

constexpr std::array<ProductInfo, pixel::kTrendOutputCount> kProducts{{
    {TrendOutput::slope, "slope", "Theil-Sen slope of the index, per year"},
    {TrendOutput::mk_s, "mk_s", "Mann-Kendall S"},
    {TrendOutput::mk_z, "mk_z", "Mann-Kendall Z (tie-corrected variance, continuity correction)"},
    {TrendOutput::mk_p, "mk_p", "Mann-Kendall two-sided p-value"},
    {TrendOutput::n_valid, "n_valid", "number of valid epochs"},
    {TrendOutput::recovery_year, "recovery_year", "first year from which the pixel stays vegetated"},
    {TrendOutput::dvi, "dvi", "dVI(T) = VI(t_r + T) - VI(t_r) (Frazier et al. 2018)"},
    {TrendOutput::yryr, "yryr", "YrYr = dVI(T) / T (Frazier et al. 2018)"},
    {TrendOutput::rri, "rri", "relative recovery indicator (Frazier et al. 2018)"},
    {TrendOutput::r80p, "r80p", "ratio to P% of the recovery target at t_r + T (Frazier et al. 2018)"},
    {TrendOutput::y2r, "y2r", "years from t_r until P% of the recovery target (Frazier et al. 2018)"},
}};

double parse_year(std::string const& text, std::string const& option) {
  if (auto const v = to_number(text); v && std::isfinite(*v)) return *v;
  throw usage_error(option + " " + text + ": expected a year such as 2019");
}

bool has_epoch(std::vector<double> const& years, double year) {
  return std::find(years.begin(), years.end(), year) != years.end();
}

std::string year_text(double year) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", year);
  return buf;
}

/** @brief The recovery parameters, checked against the products asked for and the epochs' years:
 * a metric whose years are missing, or that no epoch can feed, is NaN in every pixel, so the
 * run is refused instead (usage_error, or input_error for a job file, naming the option). */
pixel::RecoveryParams recovery_request(OptionValues const& r, pixel::TrendParams const& trend,
                                       std::vector<double> const& years) {
  pixel::RecoveryParams rec;
  auto wants = [&trend](TrendOutput o) { return trend.wants(o); };
  bool const rri = wants(TrendOutput::rri), r80p = wants(TrendOutput::r80p), y2r = wants(TrendOutput::y2r);
  bool const uses_tr = wants(TrendOutput::dvi) || wants(TrendOutput::yryr) || rri || r80p || y2r;
  if (r.count("target") && r["target"].as<std::string>() != "pre") {
    rec.target = pixel::RecoveryTarget::reference;
    rec.reference_value = r.number("target");
    if (r80p && rec.reference_value == 0) r.refuse("target", "r80p divides by the target: give a target other than 0");
  }
  bool const uses_td = rri || ((r80p || y2r) && rec.target == pixel::RecoveryTarget::pre_disturbance);
  if (uses_tr && !r.count("restoration-year"))
    throw usage_error("--products dvi, yryr, rri, r80p and y2r need --restoration-year (t_r)");
  if (uses_td && !r.count("disturbance-year"))
    throw usage_error("--products rri (and r80p, y2r with --target pre) need --disturbance-year (t_d)");
  if (r.count("disturbance-year")) rec.disturbance_year = r.number("disturbance-year");
  if (r.count("restoration-year")) rec.restoration_year = r.number("restoration-year");
  rec.timestep = r.positive("timestep");
  rec.percent = r.number("percent");
  if (!(rec.percent > 0 && rec.percent <= 100)) r.refuse("percent", "expected a percentage above 0, at most 100");
  if (r.count("disturbance-year") && r.count("restoration-year") &&
      (rec.disturbance_year > rec.restoration_year || (rri && rec.disturbance_year == rec.restoration_year)))
    r.refuse("disturbance-year", "must be before --restoration-year (" + year_text(rec.restoration_year) + ")");
  // The years each metric reads must be epochs, or it is NaN everywhere (docs/trend.md).
  std::string epoch_list;
  for (double y : years) epoch_list += (epoch_list.empty() ? "" : ", ") + year_text(y);
  std::string const have = " (the epochs are " + epoch_list + ")";
  double const t_r = rec.restoration_year, t_end = t_r + rec.timestep;
  if ((wants(TrendOutput::dvi) || wants(TrendOutput::yryr) || rri) && !has_epoch(years, t_r))
    r.refuse("restoration-year", "dvi, yryr and rri need an epoch of that year" + have);
  if (rri && !has_epoch(years, rec.disturbance_year))
    r.refuse("disturbance-year", "rri needs an epoch of that year" + have);
  if ((wants(TrendOutput::dvi) || wants(TrendOutput::yryr) || r80p) && !has_epoch(years, t_end))
    r.refuse("timestep", "dvi, yryr and r80p need an epoch of the year --restoration-year + --timestep = " +
                             year_text(t_end) + have);
  if (rri && !has_epoch(years, t_end) && !has_epoch(years, t_end - 1))
    r.refuse("timestep", "rri needs an epoch of the year --restoration-year + --timestep (or the year before) = " +
                             year_text(t_end) + have);
  if (y2r && std::none_of(years.begin(), years.end(), [t_r](double y) { return y >= t_r; }))
    r.refuse("restoration-year", "y2r needs an epoch from that year on" + have);
  if ((r80p || y2r) && rec.target == pixel::RecoveryTarget::pre_disturbance &&
      std::none_of(years.begin(), years.end(), [&rec](double y) {
        return y >= rec.disturbance_year - rec.pre_years && y < rec.disturbance_year;
      }))
    r.refuse("disturbance-year", "--target pre averages the " + year_text(rec.pre_years) +
                                     " years before it, and no epoch falls there" + have);
  return rec;
}

std::optional<double> year_of(std::string const& text) {
  auto const v = to_number(text);
  return v && std::isfinite(*v) ? v : std::nullopt;
}

std::string trimmed(std::string const& s) {
  auto const first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

using YearPath = std::pair<double, fs::path>;

/** @brief The epochs of an --epochs-from list (docs/cli.md): one epoch a line, `YEAR PATH`
 * (YEAR then a blank, a tab, ',' or '='), or `PATH` alone when the file's (or folder's) stem
 * is its year (`2019.tif`); `#` at the start of a line or after a blank starts a comment; blank
 * lines are skipped; relative paths are taken from the list's folder. Throws input_error
 * naming the list (and the line) when it cannot be read or a line has no year. */
std::vector<YearPath> read_epoch_list(fs::path const& list) {
  std::error_code ec;
  if (!fs::is_regular_file(list, ec))
    throw input_error(list.string() + ": " + (fs::exists(list, ec) ? "is not a file" : "does not exist") +
                      " (--epochs-from)");
  std::ifstream in(list);
  if (!in) throw input_error(list.string() + ": cannot be read (--epochs-from)");
  std::vector<YearPath> epochs;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    for (std::size_t k = 0; k < line.size(); ++k)
      if (line[k] == '#' && (k == 0 || line[k - 1] == ' ' || line[k - 1] == '\t')) {
        line.resize(k);
        break;
      }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    line = trimmed(line);
    if (line.empty()) continue;
    std::optional<double> year;
    std::string path = line;
    if (auto const sep = line.find_first_of(" \t,="); sep != std::string::npos)
      if (auto const y = year_of(line.substr(0, sep))) {
        auto const rest = line.find_first_not_of(" \t,=", sep);
        if (rest != std::string::npos) {
          year = y;
          path = line.substr(rest);
        }
      }
    if (!year) {
      std::string stem = path;
      while (stem.size() > 1 && stem.back() == '/') stem.pop_back();
      year = year_of(fs::path(stem).stem().string());
    }
    if (!year)
      throw input_error(list.string() + ":" + std::to_string(number) + ": " + path +
                        " has no year: write YEAR PATH, or name the file by its year (2019.tif)");
    fs::path file(path);
    epochs.emplace_back(*year, file.is_relative() ? list.parent_path() / file : file);
  }
  if (in.bad()) throw input_error(list.string() + ": cannot be read (--epochs-from)");
  return epochs;
}

/// What an epoch's file says about itself: a one-band raster with reclaim's RECLAIM_INDEX
/// metadata (and no RECLAIM_PRODUCT: a trend or change product is not an index raster) is an
/// index raster.
struct EpochFacts {
  bool raster = false;  ///< a raster file GDAL opens (a product folder is not)
  int bands = 0;
  std::string index;    ///< RECLAIM_INDEX, or empty
  std::string product;  ///< RECLAIM_PRODUCT, or empty
  bool has_nodata = false;
  double nodata = 0.0;
  [[nodiscard]] bool is_index_raster() const { return raster && bands == 1 && !index.empty() && product.empty(); }
};

EpochFacts epoch_facts(fs::path const& path) {
  EpochFacts f;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return f;  // a folder, or missing: reported where it is read
  GDALAllRegister();
  GDALDatasetUniquePtr const ds(GDALDataset::Open(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY));
  if (!ds) return f;
  f.raster = true;
  f.bands = ds->GetRasterCount();
  if (char const* v = ds->GetMetadataItem("RECLAIM_INDEX")) f.index = v;
  if (char const* v = ds->GetMetadataItem("RECLAIM_PRODUCT")) f.product = v;
  if (f.bands >= 1) {
    int has = 0;
    f.nodata = ds->GetRasterBand(1)->GetNoDataValue(&has);
    f.has_nodata = has != 0;
  }
  return f;
}

/** @brief An index raster as a one-band scene: its values, calibrated only by an explicit
 * --scale/--offset (for integer-scaled indices), nodata from --nodata or the file. The band
 * goes in the blue slot, and the epoch pass's output is Index::blue, which is that band's
 * calibrated value: the trend then reads the file's values as they are. */
io::SceneSpec index_raster_scene(std::string label, fs::path const& path, EpochFacts const& f,
                                 io::SensorOptions const& sensor) {
  io::SceneSpec scene;
  scene.label = std::move(label);
  scene.input = path;
  auto const b = static_cast<std::size_t>(pixel::Band::blue);
  scene.bands[b] = io::BandRef{path, 1};
  auto& c = scene.calibration[b];
  c.scale = sensor.scale.value_or(1.0);
  c.offset = sensor.offset.value_or(0.0);
  if (sensor.nodata) {
    c.has_nodata = true;
    c.nodata = *sensor.nodata;
  } else if (f.has_nodata) {
    c.has_nodata = true;
    c.nodata = static_cast<float>(f.nodata);
  }
  scene.resampling = sensor.resampling;
  return scene;
}

}  // namespace

int trend_main(int argc, char** argv) {
  cxxopts::Options options("reclaim trend", "Per-pixel trend statistics of an index over many epochs");
  options.add_options()
      ("epoch", "YEAR=SCENE (multiband file, product folder, scene inventory (STAC JSON, CSV: composited) or a "
                "one-band index raster); repeat, at least --min-epochs", cxxopts::value<std::vector<std::string>>())
      ("epochs-from", "a list of epochs, one a line: YEAR PATH, or PATH named by its year; # comments; paths "
                      "relative to the list's folder", cxxopts::value<std::string>())
      ("index", "the index whose trend is computed", cxxopts::value<std::string>()->default_value("ndvi"))
      ("index-input", "the epochs are one-band rasters of this index (e.g. ndvi COGs); automatic for reclaim's "
                      "own index COGs (RECLAIM_INDEX metadata)", cxxopts::value<std::string>())
      ("products", "slope,mk_s,mk_z,mk_p,n_valid,recovery_year (default) and dvi,yryr,rri,r80p,y2r",
       cxxopts::value<std::string>()->default_value("slope,mk_s,mk_z,mk_p,n_valid,recovery_year"))
      ("min-epochs", "fewer valid epochs give nodata", cxxopts::value<std::string>()->default_value("4"))
      ("vegetated", "index value from which a pixel counts as vegetated (year of recovery)",
       cxxopts::value<std::string>()->default_value("0.3"))
      ("disturbance-year", "t_d for the recovery metrics", cxxopts::value<std::string>())
      ("restoration-year", "t_r, start of the recovery window", cxxopts::value<std::string>())
      ("timestep", "T, years after t_r", cxxopts::value<std::string>()->default_value("5"))
      ("percent", "P, percent of the recovery target (R80P, Y2R)", cxxopts::value<std::string>()->default_value("80"))
      ("target", "recovery target: pre (mean of the 2 years before t_d) or a value",
       cxxopts::value<std::string>()->default_value("pre"));
  add_epoch_options(options);
  auto const parsed = parse_raster_command(options, argc, argv, index_help(/*list_all=*/false));
  if (!parsed) return 0;  // --help
  auto const& r = *parsed;
  if (!r.count("out")) throw usage_error("--out DIR is required");
  auto index = parse_index(lower(r["index"].as<std::string>()));
  if (!index) throw usage_error("--index " + r["index"].as<std::string>() + ": unknown index");
  std::optional<pixel::Index> declared;  // --index-input
  if (r.count("index-input")) {
    declared = parse_index(lower(r["index-input"].as<std::string>()));
    if (!declared) throw usage_error("--index-input " + r["index-input"].as<std::string>() + ": unknown index");
    if (r.count("index") && *declared != *index)
      throw usage_error("--index " + r["index"].as<std::string>() + " and --index-input " +
                        r["index-input"].as<std::string>() + " name different indices");
    index = declared;
  }
  auto const sensor = sensor_options_from(r);
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);

  // Epochs, sorted by year; years must differ.
  std::vector<std::pair<double, fs::path>> epochs;
  if (r.count("epoch"))
    for (auto const& e : r["epoch"].as<std::vector<std::string>>()) {
      auto const lp = parse_labeled_path(e);
      if (lp.label.empty()) throw usage_error("--epoch " + e + ": expected YEAR=PATH");
      epochs.emplace_back(parse_year(lp.label, "--epoch"), lp.path);
    }
  if (r.count("epochs-from"))
    for (auto& e : read_epoch_list(r["epochs-from"].as<std::string>())) epochs.push_back(std::move(e));
  std::sort(epochs.begin(), epochs.end());
  for (std::size_t i = 1; i < epochs.size(); ++i)
    if (epochs[i].first == epochs[i - 1].first) throw usage_error("two epochs share the year " + std::to_string(epochs[i].first));
  int const min_epochs = r.integer("min-epochs", 2, pixel::kMaxEpochs);
  if (static_cast<int>(epochs.size()) < min_epochs)
    throw usage_error(std::to_string(epochs.size()) + " epochs given (--epoch, --epochs-from); at least --min-epochs (" +
                      std::to_string(min_epochs) + ") are needed");
  if (epochs.size() > static_cast<std::size_t>(pixel::kMaxEpochs))
    throw usage_error(std::to_string(epochs.size()) + " epochs given; a trend takes at most " +
                      std::to_string(pixel::kMaxEpochs) + " (docs/trend.md)");

  // Scenes or index rasters: --index-input says so, reclaim's own index COGs say so themselves.
  std::vector<EpochFacts> facts;
  for (auto const& [year, path] : epochs) facts.push_back(epoch_facts(path));
  bool index_inputs = declared.has_value();
  if (!index_inputs) {
    auto const is_index = [](EpochFacts const& f) { return f.is_index_raster(); };
    auto const first_index = std::find_if(facts.begin(), facts.end(), is_index);
    if (first_index != facts.end()) {
      auto const scene = std::find_if_not(facts.begin(), facts.end(), is_index);
      auto const path_of = [&](auto it) { return epochs[static_cast<std::size_t>(it - facts.begin())].second.string(); };
      if (scene != facts.end())
        throw input_error(path_of(scene) + ": not an index raster, while " + path_of(first_index) + " is one (" +
                          first_index->index + ", RECLAIM_INDEX): a trend's epochs are all scenes or all index rasters");
      index_inputs = true;
      if (!r.count("index")) {
        index = parse_index(lower(first_index->index));
        if (!index)
          throw input_error(path_of(first_index) + ": RECLAIM_INDEX " + first_index->index + " is no known index");
      }
    }
  }
  if (index_inputs)
    for (std::size_t e = 0; e < epochs.size(); ++e) {
      auto const& f = facts[e];
      std::string const file = epochs[e].second.string();
      if (!f.raster) throw input_error(file + ": not a readable raster file (an index raster epoch is one file)");
      if (f.bands != 1)
        throw input_error(file + ": has " + std::to_string(f.bands) + " bands; an index raster (--index-input) has one");
      if (!f.product.empty())
        throw input_error(file + ": is reclaim's " + f.product + " product, not an index raster");
      if (!f.index.empty() && parse_index(lower(f.index)) != index)
        throw input_error(file + ": holds " + f.index + " (RECLAIM_INDEX), not " + std::string(index_name(*index)) +
                          " (--index, --index-input)");
    }

  TrendPass pass;
  pass.trend.epoch_count = static_cast<std::int32_t>(epochs.size());
  for (std::size_t e = 0; e < epochs.size(); ++e) pass.trend.years[e] = epochs[e].first;
  pass.trend.min_epochs = min_epochs;
  auto const [index_lo, index_hi] = index_value_range(*index);
  pass.trend.vegetated_threshold = r.number_in("vegetated", index_lo, std::floor(index_hi));
  std::vector<ProductInfo> products;
  for (auto const& name : [&] {
         std::vector<std::string> v;
         std::string item;
         for (char c : r["products"].as<std::string>() + ",")
           if (c == ',') {
             if (!item.empty()) v.push_back(item);
             item.clear();
           } else if (c != ' ') {
             item += c;
           }
         return v;
       }()) {
    auto const it = std::find_if(kProducts.begin(), kProducts.end(), [&](ProductInfo const& p) { return name == p.name; });
    if (it == kProducts.end()) throw usage_error("--products: unknown product '" + name + "'");
    if (pass.trend.wants(it->output)) continue;
    pass.trend.add_output(it->output);
    products.push_back(*it);
  }
  std::vector<double> years;
  for (auto const& e : epochs) years.push_back(e.first);
  pass.trend.recovery = recovery_request(r, pass.trend, years);

  EventLog log(run.log_format, run.quiet);
  // Every epoch is read onto the first epoch's grid, with the same band layout.
  std::uint32_t const needed = index_inputs ? pixel::band_bit(pixel::Band::blue) : pixel::bands_needed(*index);
  std::vector<Epoch> epoch_specs;
  std::vector<std::unique_ptr<io::EpochSource>> sources;
  for (std::size_t e = 0; e < epochs.size(); ++e) {
    auto const& [year, path] = epochs[e];
    std::string label = std::to_string(static_cast<long long>(year));
    if (index_inputs) {
      epoch_specs.push_back(Epoch{index_raster_scene(std::move(label), path, facts[e], sensor), {}, {}, {}});
    } else {
      try {
        epoch_specs.push_back(resolve_epoch(std::move(label), path, sensor, r));
        io::require_bands(epoch_specs.back().scene, {*index});
      } catch (std::runtime_error const& error) {
        // A one-band file refused as a scene (missing bands, or no quality band for the assumed
        // sensor) is most likely an index raster: say how to read it as one.
        if (facts[e].bands != 1 || !(dynamic_cast<input_error const*>(&error) || dynamic_cast<usage_error const*>(&error)))
          throw;
        throw input_error(std::string(error.what()) + "; if it holds index values, say which with --index-input " +
                          std::string(index_name(*index)));
      }
    }
    std::optional<Grid> target;
    if (!sources.empty()) target = sources.front()->grid();
    sources.push_back(open_epoch(epoch_specs.back(), needed, target));
  }
  check_epoch_options_used(r, epoch_specs);
  auto const first = sources.front()->fused_params();
  for (std::size_t e = 1; e < sources.size(); ++e) {
    auto const p = sources[e]->fused_params();
    bool const same = p.input_plane_count == first.input_plane_count && p.mask_plane == first.mask_plane &&
                      std::equal(std::begin(p.band_plane), std::end(p.band_plane), std::begin(first.band_plane));
    if (!same)
      throw input_error(epochs[e].second.string() + ": its bands are laid out differently from " +
                        epochs.front().second.string() + " (epochs of a trend need the same bands and quality band)");
  }
  std::vector<TileSource const*> parts;
  for (auto const& s : sources) parts.push_back(s.get());
  CompositeTileSource source(parts);

  pass.epoch = first;
  pass.epoch.index_params = index_params_from(r);
  // An index raster's epoch pass only calibrates its one band (index_raster_scene).
  pass.epoch.outputs[0] = index_inputs ? pixel::Index::blue : *index;
  pass.epoch.output_count = 1;
  pass.planes_per_epoch = first.input_plane_count;

  fs::path const out_dir = output_folder(r);
  // The quality mask of each epoch as applied ("2019: SCL classes ...; 2020: none").
  std::string epoch_masks;
  for (auto const& epoch : epoch_specs)
    epoch_masks += (epoch_masks.empty() ? "" : "; ") + epoch.scene.label + ": " + epoch.scene.mask_text;
  std::vector<io::OutputRaster> outputs(products.size());
  for (auto const& prod : products) {
    auto& out = outputs[static_cast<std::size_t>(pass.trend.plane[static_cast<int>(prod.output)])];
    out.path = out_dir / ("trend_" + std::string(prod.name) + ".tif");
    out.description = std::string(index_name(*index)) + " " + prod.description;
    out.metadata = {{"RECLAIM_PRODUCT", std::string("trend_") + prod.name},
                    {"RECLAIM_INDEX", std::string(index_name(*index))},
                    {"RECLAIM_EPOCHS", std::to_string(epochs.size())},
                    {"RECLAIM_EPOCH_INPUTS", index_inputs ? "index rasters" : "scenes"},
                    {"RECLAIM_FIRST_YEAR", std::to_string(epochs.front().first)},
                    {"RECLAIM_LAST_YEAR", std::to_string(epochs.back().first)},
                    {"RECLAIM_MIN_EPOCHS", std::to_string(min_epochs)},
                    {"RECLAIM_VERSION", RECLAIM_VERSION},
                    {"RECLAIM_MASK", epoch_masks}};
  }
  PassRunner runner("trend", run, cog, log);
  PassLayout layout;
  layout.label = "trend";
  layout.source = &source;
  for (auto const& epoch : epoch_specs)
    for (auto const& f : epoch.files()) layout.inputs.push_back(f);
  layout.pass = pass;
  layout.plan = runner.plan(source, pass);
  layout.outputs = outputs;
  for (auto const& o : outputs) layout.plane_names.push_back(o.metadata.front().second);
  auto const claimed = runner.claim_outputs(out_dir, {&layout});
  for (std::size_t e = 0; e < epoch_specs.size(); ++e) log_epoch(log, epoch_specs[e], *sources[e]);  // a refused run has only its error
  if (runner.dry_run()) {
    runner.describe(layout);
    return 0;
  }
  runner.run(layout);
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
