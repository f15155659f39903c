#include "cli/epoch_inputs.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "cli/common_options.hpp"
#include "reclaim/error.hpp"
#include "reclaim/io/number_text.hpp"

namespace reclaim::cli {
namespace fs = std::filesystem;

void add_epoch_options(cxxopts::Options& options) {
  options.add_options()
      ("composite", "how an inventory epoch (STAC JSON or CSV) becomes one raster: median (per band, the default), "
                    "max-ndvi (the greenest clear observation) or medoid (docs/composites.md)",
       cxxopts::value<std::string>()->default_value("median"))
      ("window", "[LABEL=]START/END: the acquisition dates of inventory epochs (inclusive), as YYYY-MM-DD, or MM-DD "
                 "for a season in each epoch's year (labels must be years); repeat per label",
       cxxopts::value<std::vector<std::string>>())
      ("max-cloud", "inventory epochs: leave out scenes with more scene cloud cover (percent, eo:cloud_cover)",
       cxxopts::value<std::string>())
      ("platform", "inventory epochs: keep only these platforms (comma-separated, e.g. sentinel-2a,sentinel-2b)",
       cxxopts::value<std::string>());
}

std::vector<fs::path> Epoch::files() const {
  if (!is_composite()) return io::scene_files(scene);
  std::set<fs::path> unique;
  for (auto const& s : scenes)
    for (auto const& f : io::scene_files(s.scene)) unique.insert(f);
  return {unique.begin(), unique.end()};
}

namespace {

bool is_year(std::string const& s) {
  return s.size() == 4 && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
bool is_month_day(std::string const& s) {
  return s.size() == 5 && s[2] == '-' && std::isdigit(static_cast<unsigned char>(s[0])) &&
         std::isdigit(static_cast<unsigned char>(s[1])) && std::isdigit(static_cast<unsigned char>(s[3])) &&
         std::isdigit(static_cast<unsigned char>(s[4]));
}

/// The --window that applies to `label` (a LABEL= one wins over an unlabelled one), as full dates.
std::optional<io::InventoryFilter> window_for(OptionValues const& r, std::string const& label) {
  if (!r.count("window")) return std::nullopt;
  std::optional<std::string> chosen;
  for (auto const& text : r["window"].as<std::vector<std::string>>()) {
    auto const eq = text.find('=');
    if (eq == std::string::npos) {
      if (!chosen) chosen = text;
    } else if (text.substr(0, eq) == label) {
      chosen = text.substr(eq + 1);
    }
  }
  if (!chosen) return std::nullopt;
  auto const slash = chosen->find('/');
  if (slash != std::string::npos && is_month_day(chosen->substr(0, slash)) && is_month_day(chosen->substr(slash + 1))) {
    if (!is_year(label))
      r.refuse("window", "'" + *chosen + "' is a season (MM-DD/MM-DD) but the epoch '" + label +
                             "' is not labelled with a year; give YYYY-MM-DD dates or label it YEAR=PATH");
    auto const start = chosen->substr(0, slash), end = chosen->substr(slash + 1);
    // A season across the new year ends in the next one.
    std::string const end_year = end < start ? std::to_string(std::stoi(label) + 1) : label;
    chosen = label + "-" + start + "/" + end_year + "-" + end;
  }
  try {
    return io::parse_window(*chosen);
  } catch (input_error const& e) {
    r.refuse("window", e.what());
  }
}

std::string first_or_mixed(std::vector<io::InventoryScene> const& scenes, std::string (*text)(io::SceneSpec const&)) {
  std::string const first = text(scenes.front().scene);
  for (auto const& s : scenes)
    if (text(s.scene) != first) return first + " (first scene; others differ)";
  return first;
}

}  // namespace

Epoch resolve_epoch(std::string label, fs::path const& path, io::SensorOptions const& sensor, OptionValues const& r,
                    std::vector<double> percentiles) {
  Epoch epoch;
  if (!io::is_inventory_path(path)) {
    epoch.scene = io::resolve_scene(std::move(label), path, sensor);
    return epoch;
  }
  auto filter = window_for(r, label).value_or(io::InventoryFilter{});
  if (r.count("max-cloud")) filter.max_cloud = r.number_in("max-cloud", 0.0, 100.0);
  if (r.count("platform")) filter.platforms = split(without_spaces(r["platform"].as<std::string>()), ',');
  auto const method = io::parse_composite_method(r["composite"].as<std::string>());
  if (!method) r.refuse("composite", "unknown rule (median, max-ndvi or medoid)");
  epoch.composite.method = *method;
  epoch.composite.percentiles = std::move(percentiles);

  auto all = io::read_inventory(path, sensor);
  std::size_t const listed = all.size();
  std::vector<std::string> dropped;
  epoch.scenes = io::filter_inventory(std::move(all), filter, &dropped);
  if (epoch.scenes.empty()) {
    std::string why = listed == 0 ? "it lists no scene" : std::to_string(listed) + " listed, none kept";
    if (!dropped.empty()) why += " (" + dropped.front() + (dropped.size() > 1 ? "; ..." : "") + ")";
    throw input_error(path.string() + ": no scene for epoch '" + label + "': " + why);
  }

  // A scene listed twice would count twice and pull the composite towards it: refuse.
  std::map<std::string, std::string> seen_ids, seen_files;
  for (auto const& x : epoch.scenes) {
    auto const files = io::scene_files(x.scene);
    std::string const first_file = files.empty() ? std::string() : files.front().string();
    if (!seen_ids.emplace(x.id, x.id).second)
      throw input_error(path.string() + ": item " + x.id + " is listed twice");
    if (!first_file.empty() && !seen_files.emplace(first_file, x.id).second)
      throw input_error(path.string() + ": items " + seen_files.at(first_file) + " and " + x.id + " read the same file " +
                        first_file);
  }

  // The summary scene the commands describe and check the epoch by.
  auto& s = epoch.scene;
  s.label = std::move(label);
  s.input = path;
  s.sensor = epoch.scenes.front().scene.sensor;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    bool every = true;
    for (auto const& x : epoch.scenes) every = every && x.scene.bands[b].has_value();
    if (every) s.bands[b] = epoch.scenes.front().scene.bands[b];
  }
  s.mask_text = "per scene before compositing: " +
                first_or_mixed(epoch.scenes, [](io::SceneSpec const& x) { return x.mask_text; });
  s.calibration_note = "per scene before compositing: " +
                       first_or_mixed(epoch.scenes, [](io::SceneSpec const& x) { return io::calibration_text(x); });
  std::set<std::string> seen;
  for (auto const& x : epoch.scenes)
    for (auto const& w : x.scene.warnings)
      if (seen.insert(w).second) s.warnings.push_back(w);
  std::string what = std::string(io::composite_method_name(epoch.composite.method)) + " composite of " +
                     std::to_string(epoch.scenes.size()) + " of " + std::to_string(listed) + " scenes in " +
                     path.string();
  if (filter.start || filter.end) what += ", " + filter.start.value_or("") + "/" + filter.end.value_or("");
  if (filter.max_cloud) what += ", cloud cover <= " + io::shortest_text(*filter.max_cloud) + " %";
  epoch.dropped = std::move(dropped);
  s.composite = what;
  return epoch;
}

void check_epoch_options_used(OptionValues const& r, std::vector<Epoch> const& epochs) {
  bool const any = std::any_of(epochs.begin(), epochs.end(), [](Epoch const& e) { return e.is_composite(); });
  if (any) return;
  for (char const* option : {"window", "max-cloud", "platform"})
    if (r.count(option))
      r.refuse(option, "applies to inventory epochs (STAC JSON or CSV) only, and no epoch is one");
  if (r.count("composite") && r.cli().count("composite"))
    r.refuse("composite", "applies to inventory epochs (STAC JSON or CSV) only, and no epoch is one");
}

std::unique_ptr<io::EpochSource> open_epoch(Epoch const& epoch, std::uint32_t needed_bands,
                                            std::optional<Grid> const& target) {
  if (!epoch.is_composite()) return std::make_unique<io::GdalTileSource>(epoch.scene, needed_bands, target);
  return std::make_unique<io::CompositeEpochSource>(epoch.scenes, needed_bands, epoch.composite, target);
}

void log_epoch(EventLog& log, Epoch const& epoch, io::EpochSource const& source) {
  for (auto const& w : epoch.scene.warnings) log.warning(w);
  auto const* composite = dynamic_cast<io::CompositeEpochSource const*>(&source);
  if (!composite) return;
  for (auto const& note : composite->notes()) log.warning(note);
  // The scenes the filters left out: each named (a national inventory can drop thousands: the
  // text log names the first kNamed, the JSON event all of them).
  constexpr std::size_t kNamed = 20;
  if (!epoch.dropped.empty()) {
    std::string text = epoch.scene.label + ": " + std::to_string(epoch.dropped.size()) + " scene" +
                       (epoch.dropped.size() == 1 ? "" : "s") + " left out: ";
    for (std::size_t k = 0; k < epoch.dropped.size() && k < kNamed; ++k)
      text += (k ? "; " : "") + epoch.dropped[k];
    if (epoch.dropped.size() > kNamed)
      text += "; and " + std::to_string(epoch.dropped.size() - kNamed) + " more (--log-format json lists all)";
    log.event("scenes_left_out", {{"epoch", epoch.scene.label}, {"scenes", epoch.dropped}}, text);
  }
  log.event("composite",
            {{"epoch", epoch.scene.label},
             {"method", std::string(io::composite_method_name(epoch.composite.method))},
             {"scenes", composite->scene_count()},
             {"observation_days", composite->observation_days()}},
            epoch.scene.label + ": " + composite->description());
}

}  // namespace reclaim::cli
