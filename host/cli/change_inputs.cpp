#include "cli/change_inputs.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;
namespace {

/// Bands the default and custom change rules can read: NDVI, BSI, MNDWI and FVC of an epoch.
constexpr std::uint32_t kChangeBands = pixel::bands_needed(pixel::Index::ndvi) | pixel::bands_needed(pixel::Index::bsi) |
                                       pixel::bands_needed(pixel::Index::mndwi);

io::SensorOptions epoch_sensor(io::SensorOptions base, OptionValues const& r, char const* option) {
  if (!r.count(option)) return base;
  auto const sensor = io::parse_sensor(r[option].as<std::string>());
  if (!sensor) throw usage_error(std::string("--") + option + " " + r[option].as<std::string>() + ": unknown sensor");
  base.sensor = *sensor;
  base.sensor_given = true;
  return base;
}

/// The after epoch's planes follow the before epoch's in the combined tile.
void shift_planes(pixel::FusedParams& p, int offset) {
  for (auto& plane : p.band_plane)
    if (plane >= 0) plane += offset;
  if (p.mask_plane >= 0) p.mask_plane += offset;
}

bool is_year(std::string const& s) {
  return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

void add_change_input_options(cxxopts::Options& options) {
  options.add_options()
      ("before", "the earlier epoch: multiband file, product folder or scene inventory (STAC JSON, CSV: "
                 "composited), optionally LABEL=PATH",
       cxxopts::value<std::string>())
      ("after", "the later epoch; resampled on the fly onto the earlier epoch's grid when they differ",
       cxxopts::value<std::string>())
      ("before-sensor", "sensor of the earlier scene (default: --sensor)", cxxopts::value<std::string>())
      ("after-sensor", "sensor of the later scene (default: --sensor)", cxxopts::value<std::string>())
      ("target-grid", "a raster whose grid (extent, pixel size, CRS) both epochs are read onto; default: the "
                      "before scene's", cxxopts::value<std::string>())
      ("rules", "rules file (JSON or TOML) changing thresholds or adding classes (docs/change.md)",
       cxxopts::value<std::string>());
  add_epoch_options(options);
}

std::vector<std::filesystem::path> ChangeInputs::files() const {
  auto files = before_epoch.files();
  for (auto const& f : after_epoch.files()) files.push_back(f);
  return files;
}

ChangeInputs prepare_change_inputs(OptionValues const& r, std::vector<pixel::Index> const& outputs,
                                   bool year_labels) {
  if (!r.count("before") || !r.count("after")) throw usage_error("--before and --after are required");
  ChangeInputs in;
  in.scheme = r.count("rules") ? io::load_change_rules(r["rules"].as<std::string>()) : io::default_change_scheme();
  in.before = parse_labeled_path(r["before"].as<std::string>());
  in.after = parse_labeled_path(r["after"].as<std::string>());
  if (in.before.label.empty())
    in.before.label = year_labels && is_year(in.before.path.stem().string()) ? in.before.path.stem().string() : "before";
  if (in.after.label.empty())
    in.after.label = year_labels && is_year(in.after.path.stem().string()) ? in.after.path.stem().string() : "after";
  if (in.before.label == in.after.label)
    throw usage_error("--before and --after share the label '" + in.before.label + "'");

  std::uint32_t needed = kChangeBands;
  for (auto index : outputs) needed |= pixel::bands_needed(index);
  // What the rules read and what was asked for; a missing band is named with its index.
  std::vector<pixel::Index> checked = outputs;
  for (auto index : {pixel::Index::ndvi, pixel::Index::bsi, pixel::Index::mndwi}) checked.push_back(index);
  auto const base = sensor_options_from(r);
  in.before_sensor = epoch_sensor(base, r, "before-sensor");
  in.after_sensor = epoch_sensor(base, r, "after-sensor");
  in.before_epoch = resolve_epoch(in.before.label, in.before.path, in.before_sensor, r);
  in.after_epoch = resolve_epoch(in.after.label, in.after.path, in.after_sensor, r);
  check_epoch_options_used(r, {in.before_epoch, in.after_epoch});
  io::require_bands(in.before_epoch.scene, checked);
  io::require_bands(in.after_epoch.scene, checked);
  // Both epochs are read onto the target grid, by default the before epoch's own (warped on
  // the fly where a scene's grid differs).
  std::optional<Grid> target;
  if (r.count("target-grid")) target = io::raster_grid(r["target-grid"].as<std::string>());
  in.before_source = open_epoch(in.before_epoch, needed, target);
  in.after_source = open_epoch(in.after_epoch, needed, in.before_source->grid());
  in.source = std::make_unique<CompositeTileSource>(
      std::vector<TileSource const*>{in.before_source.get(), in.after_source.get()});

  auto const index_params = index_params_from(r);
  in.params.before = in.before_source->fused_params();
  in.params.after = in.after_source->fused_params();
  shift_planes(in.params.after, in.params.before.input_plane_count);
  in.params.before.index_params = in.params.after.index_params = index_params;
  in.params.rules = in.scheme.rules;
  return in;
}

ChangePlanes change_planes(ChangeInputs& in, std::vector<pixel::Index> const& per_epoch, fs::path const& out_dir) {
  ChangePlanes planes;
  planes.outputs = {change_class_output(out_dir / "change_class.tif", in), dndvi_output(out_dir / "dndvi.tif", in)};
  planes.outputs[0].plane = 0;
  planes.outputs[1].plane = 1;
  planes.names = {"change_class", "dndvi"};
  int plane = 2;
  for (int e = 0; e < 2; ++e) {
    auto& epoch = e == 0 ? in.params.before : in.params.after;
    auto const& label = e == 0 ? in.before.label : in.after.label;
    auto const& scene = e == 0 ? in.before_epoch.scene : in.after_epoch.scene;
    for (auto index : per_epoch) {
      epoch.outputs[epoch.output_count++] = index;
      planes.plane_of[{e, index}] = plane;
      planes.epoch_output.push_back(index);
      planes.names.push_back(label + "_" + std::string(index_name(index)));
      if (pixel::is_spectral_index(index)) {  // reflectance planes feed only the pictures
        auto o = index_output(out_dir / (label + "_" + std::string(index_name(index)) + ".tif"), index, scene);
        o.plane = plane;
        planes.outputs.push_back(std::move(o));
      }
      ++plane;
    }
  }
  if (in.params.write_magnitude) {
    RECLAIM_EXPECTS(plane == in.params.magnitude_plane(), "the magnitude plane follows the epochs' outputs");
    auto o = magnitude_output(out_dir / "change_magnitude.tif", in);
    o.plane = plane;
    planes.outputs.push_back(std::move(o));
    planes.names.push_back("change_magnitude");
    auto d = direction_output(out_dir / "change_direction.tif", in);
    d.plane = plane + 1;
    planes.outputs.push_back(std::move(d));
    planes.names.push_back("change_direction");
  }
  return planes;
}

void add_change_vector_options(cxxopts::Options& options) {
  options.add_options("Change magnitude")
      ("magnitude", "also write change_magnitude.tif: the change-vector magnitude of the standardised bands")
      ("normalise", "none, or pif: the after epoch normalised onto the before epoch's radiometry, per band, over "
                    "the pixels the magnitude calls unchanged; default: pif for top-of-atmosphere epochs or two "
                    "sensors, none for surface reflectance (docs/change.md)",
       cxxopts::value<std::string>())
      ("dndvi-threshold", "the gain and loss thresholds of dNDVI (default 0.15): otsu or ki on the histogram of "
                          "|dNDVI|, or a value (docs/change.md)", cxxopts::value<std::string>())
      ("threshold", "classes gated by the magnitude, with this threshold: otsu (default without --rules), ki "
                    "(Kittler-Illingworth) or a value (each writes change_magnitude.tif), or none: the rule classes "
                    "alone (docs/change.md)", cxxopts::value<std::string>());
}

namespace {

/// "otsu", "ki" or "kittler-illingworth"; nullopt for anything else (a value, checked by the caller).
std::optional<ThresholdMethod> parse_threshold_method(std::string const& text) {
  if (text == "otsu") return ThresholdMethod::otsu;
  if (text == "ki" || text == "kittler-illingworth") return ThresholdMethod::kittler_illingworth;
  return std::nullopt;
}

/// The built-in rules for the scheme's thresholds: gated by `magnitude_threshold`, or the rule classes.
void rebuild_builtin_rules(ChangeInputs& in, bool gated, double magnitude_threshold) {
  in.scheme.rules = gated ? pixel::default_gated_rules(in.scheme.thresholds, magnitude_threshold)
                          : pixel::default_change_rules(in.scheme.thresholds);
  in.params.rules = in.scheme.rules;
}

}  // namespace

ChangeVectorRequest change_vector_request(OptionValues const& r, ChangeInputs& in) {
  ChangeVectorRequest q;
  q.write = r.count("magnitude") > 0;
  // The default: the gated classes with Otsu's threshold; a rules file keeps its own classes.
  std::string const text = r.count("threshold") ? lower(r["threshold"].as<std::string>())
                           : r.count("rules")   ? "none"
                                                : "otsu";
  if (text != "none") {
    if (r.count("rules"))
      throw usage_error("--threshold gates the built-in classes; a rules file reads `magnitude` with thresholds of "
                        "its own (give --magnitude to write it)");
    q.write = true;
    q.method = parse_threshold_method(text);
    if (!q.method) q.value = r.positive("threshold");
    in.scheme = io::gated_change_scheme(in.scheme.thresholds, q.value.value_or(0.0));
    in.params.rules = in.scheme.rules;
  }
  if (r.count("dndvi-threshold")) {
    if (r.count("rules")) throw usage_error("--dndvi-threshold sets the built-in classes' gain and loss; a rules file "
                                            "sets them itself (thresholds.dndvi_gain, dndvi_loss)");
    q.dndvi_method = parse_threshold_method(lower(r["dndvi-threshold"].as<std::string>()));
    if (!q.dndvi_method) {
      double const v = r.number_in("dndvi-threshold", 0.0, 2.0);
      if (!(v > 0.0)) r.refuse("dndvi-threshold", "must be greater than 0");
      in.scheme.thresholds.dndvi_gain = v;
      in.scheme.thresholds.dndvi_loss = -v;
      rebuild_builtin_rules(in, q.gated(), q.value.value_or(0.0));
    }
  }
  if (r.count("normalise")) {
    std::string const normalise = lower(r["normalise"].as<std::string>());
    if (normalise != "none" && normalise != "pif")
      throw usage_error("--normalise " + r["normalise"].as<std::string>() + ": expected none or pif");
    q.normalise = normalise == "pif";
  } else {
    // The default per product level (docs/change.md): top-of-atmosphere epochs, or epochs of two
    // sensors, differ by more than the change; surface reflectance pairs are left as they are.
    auto const toa = [](io::Sensor s) { return s == io::Sensor::sentinel2_l1c || s == io::Sensor::landsat_c2l1; };
    auto const b = in.before_sensor.sensor, a = in.after_sensor.sensor;
    if (toa(b) || toa(a)) {
      q.normalise = true;
      q.normalise_reason = "top-of-atmosphere input (" + std::string(io::sensor_name(toa(b) ? b : a)) + ")";
    } else if (b != a) {
      q.normalise = true;
      q.normalise_reason = "two sensors (" + std::string(io::sensor_name(b)) + ", " + std::string(io::sensor_name(a)) + ")";
    }
  }
  in.params.write_magnitude = q.write ? 1 : 0;
  return q;
}

std::vector<std::pair<std::string, std::string>> prepare_change_vector(ChangeInputs& in,
                                                                       ChangeVectorRequest const& request,
                                                                       std::span<TileWindow const> tiles, int threads,
                                                                       EventLog& log) {
  if (!request.write && !request.normalise && !request.dndvi_method &&
      !in.scheme.rules.needs(pixel::ChangeVar::magnitude))
    return {};
  std::uint32_t const bands = shared_bands(in.params);
  log.event("change_vector_read", {{"step", "standardisation"}}, "change magnitude: standardising the bands (a first read)");
  auto const moments = band_moments(*in.source, tiles, in.params, threads);
  in.params.vector = standardisation_from(moments, bands);
  std::string const scenes = in.before_epoch.scene.input.string() + " and " + in.after_epoch.scene.input.string();
  if (!in.params.vector.enabled)
    throw input_error(scenes + ": no band varies over the pixels clear in both epochs (" +
                      std::to_string(static_cast<std::uint64_t>(moments.count)) +
                      "): the change magnitude cannot be standardised");
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string used;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    if (!in.params.vector.use[b]) continue;
    std::string const name(band_name(static_cast<pixel::Band>(b)));
    std::string key = name;
    for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    used += (used.empty() ? "" : ",") + name;
    for (int e = 0; e < 2; ++e)
      metadata.emplace_back("RECLAIM_STANDARDISATION_" + std::string(e == 0 ? "BEFORE_" : "AFTER_") + key,
                            "mean=" + io::shortest_text(in.params.vector.mean[e][b]) +
                                " sd=" + io::shortest_text(1.0 / in.params.vector.inv_sd[e][b]));
  }
  metadata.emplace(metadata.begin(), "RECLAIM_MAGNITUDE_BANDS", used);
  metadata.emplace(metadata.begin() + 1, "RECLAIM_STANDARDISATION_PIXELS",
                   std::to_string(static_cast<std::uint64_t>(moments.count)));
  if (!request.gated() && !request.normalise && !request.dndvi_method) {
    log.event("change_vector", {{"bands", used}, {"pixels", moments.count}},
              "change magnitude over " + used + ", standardised over " +
                  std::to_string(static_cast<std::uint64_t>(moments.count)) + " pixels clear in both epochs");
    return metadata;
  }
  // The threshold: the gate's, or Otsu's for choosing the invariant pixels of --normalise.
  double threshold = request.value.value_or(0.0);
  std::string method = "fixed";
  ChangeHistograms histograms;
  auto const& histogram = histograms.magnitude;
  if (!request.value || request.normalise || request.dndvi_method) {
    log.event("change_vector_read", {{"step", "histogram"}}, "change magnitude: its histogram (a second read)");
    histograms = change_histograms(*in.source, tiles, in.params, threads);
  }
  if (request.dndvi_method) {
    auto const chosen = histogram_threshold(histograms.abs_dndvi.counts, kMagnitudeBinWidth, *request.dndvi_method);
    std::string const how = threshold_method_name(*request.dndvi_method);
    if (chosen) {
      in.scheme.thresholds.dndvi_gain = *chosen;
      in.scheme.thresholds.dndvi_loss = -*chosen;
      metadata.emplace_back("RECLAIM_DNDVI_THRESHOLD_METHOD", how);
      metadata.emplace_back("RECLAIM_DNDVI_THRESHOLD", io::shortest_text(*chosen));
      log.event("change_dndvi_threshold", {{"method", how}, {"threshold", *chosen}},
                "dNDVI: " + how + " threshold " + io::shortest_text(*chosen) + " (gain dNDVI >= " +
                    io::shortest_text(*chosen) + ", loss <= -" + io::shortest_text(*chosen) + ")");
    } else {
      log.warning(scenes + ": |dNDVI| has no two classes to separate: the gain and loss thresholds stay " +
                  io::shortest_text(in.scheme.thresholds.dndvi_gain) + " and " +
                  io::shortest_text(in.scheme.thresholds.dndvi_loss));
    }
    if (!request.gated()) rebuild_builtin_rules(in, false, 0.0);  // the rule classes, with the new gain and loss
  }
  if (!request.value) {
    auto const how = request.method.value_or(ThresholdMethod::otsu);
    auto const chosen = histogram_threshold(histogram.counts, kMagnitudeBinWidth, how);
    method = threshold_method_name(how);
    // One occupied bin (e.g. a scene compared with itself): nothing to separate, nothing changed.
    threshold = chosen.value_or(kMagnitudeBins * kMagnitudeBinWidth);
    if (!chosen)
      log.warning(scenes + ": the change magnitude has no two classes to separate (" +
                  std::to_string(histogram.total()) + " pixels): every pixel is stable (give --threshold VALUE to "
                  "choose otherwise)");
    if (histogram.clamped > 0)
      log.warning(std::to_string(histogram.clamped) + " pixels have a change magnitude beyond " +
                  io::shortest_text(kMagnitudeBins * kMagnitudeBinWidth) + ": counted in the histogram's last bin");
  }
  if (request.gated()) {
    in.scheme = io::gated_change_scheme(in.scheme.thresholds, threshold);
    in.params.rules = in.scheme.rules;
  }
  // Without the gate, the threshold only chose the invariant pixels: named so.
  std::string const key = request.gated() ? "RECLAIM_THRESHOLD" : "RECLAIM_INVARIANT_THRESHOLD";
  metadata.emplace_back(key + "_METHOD", method);
  metadata.emplace_back(key, io::shortest_text(threshold));
  log.event("change_threshold", {{"method", method}, {"threshold", threshold}, {"bands", used}, {"pixels", moments.count}},
            "change magnitude over " + used + ": " + method + " threshold " + io::shortest_text(threshold) +
                " (standardised over " + std::to_string(static_cast<std::uint64_t>(moments.count)) +
                " pixels clear in both epochs)");
  if (request.normalise) {
    if (!request.normalise_reason.empty())
      log.event("change_normalisation_default", {{"reason", request.normalise_reason}},
                "radiometric normalisation (pif) by default for " + request.normalise_reason +
                    " (--normalise none to skip)");
    log.event("change_vector_read", {{"step", "normalisation"}},
              "radiometric normalisation: the invariant pixels' fit (a third read)");
    // The most invariant pixels: the quarter with the smallest magnitude, and below the threshold.
    double const below = std::min(threshold, histogram.quantile(kInvariantShare));
    auto const fit = invariant_fit(*in.source, tiles, in.params, below, threads);
    metadata.emplace_back("RECLAIM_NORMALISATION", "pif: after' = (after - a) / b per band, after = a + b before "
                                                   "by major-axis regression over the " +
                                                       std::to_string(static_cast<std::uint64_t>(fit.count)) +
                                                       " pixels with magnitude < " + io::shortest_text(below));
    std::string fitted;
    for (int b = 0; b < pixel::kBandCount; ++b) {
      if (!((shared_bands(in.params) >> b) & 1u)) continue;
      std::string name(band_name(static_cast<pixel::Band>(b)));
      auto const [a, slope] = fit.line(b);
      if (!std::isfinite(slope)) {
        log.warning("radiometric normalisation: band " + name + " has no positive relation over the " +
                    std::to_string(static_cast<std::uint64_t>(fit.count)) + " invariant pixels: not normalised");
        continue;
      }
      normalise_after_band(in.params, b, a, slope);
      for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      metadata.emplace_back("RECLAIM_NORMALISATION_" + name, "a=" + io::shortest_text(a) + " b=" + io::shortest_text(slope));
      fitted += (fitted.empty() ? "" : ", ") + std::string(band_name(static_cast<pixel::Band>(b))) + " " +
                io::shortest_text(slope) + "x" + (a < 0 ? "" : "+") + io::shortest_text(a);
    }
    log.event("change_normalisation", {{"pixels", fit.count}},
              "radiometric normalisation of the after epoch over " +
                  std::to_string(static_cast<std::uint64_t>(fit.count)) + " invariant pixels: after = " + fitted);
  }
  return metadata;
}

std::vector<ZonalProduct> change_zonal_products(ChangeInputs const& in, ChangePlanes const& planes,
                                                    ZoneRequest const& request) {
  std::vector<io::ZonalProduct> products;
  io::ZonalProduct cls;
  cls.name = "change_class";
  cls.plane = 0;
  cls.categorical = true;
  cls.class_names = in.scheme.category_names();
  products.push_back(cls);
  products.push_back(value_product("dndvi", 1, request, -2.0, 2.0 + 1e-9));
  for (std::size_t k = 0; k < planes.epoch_output.size(); ++k) {
    auto const [lo, hi] = index_value_range(planes.epoch_output[k]);
    int const plane = static_cast<int>(k) + 2;
    products.push_back(value_product(planes.names[static_cast<std::size_t>(plane)], plane, request, lo, hi));
  }
  return products;
}

}  // namespace reclaim::cli
