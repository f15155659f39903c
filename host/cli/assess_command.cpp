// reclaim assess: scenes of two epochs + site polygons -> rasters, per-site metrics, grades,
// pictures, an HTML report and a manifest, from ONE pass over the tiles.
#include <ogr_spatialref.h>
#include <cxxopts.hpp>


#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string_view>
#include <tuple>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/assess_internal.hpp"
#include "cli/change_inputs.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/pass_runner.hpp"
#include "cli/zonal_options.hpp"
#include "reclaim/cpus.hpp"
#include "reclaim/error.hpp"
#include "reclaim/pixels_read.hpp"
#include "reclaim/index_names.hpp"
#include "reclaim/io/assess.hpp"
#include "reclaim/io/epoch_source.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/composite_source.hpp"
#include "reclaim/io/crop_pieces.hpp"
#include "reclaim/io/picture.hpp"
#include "reclaim/io/report.hpp"
#include "reclaim/site_crops.hpp"
#include "reclaim/io/zonal.hpp"
#include "reclaim/io/zonal_partial.hpp"
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

/// An input's entry: read and hashed (from the page cache: the pass has just read it).
ojson file_entry(fs::path const& path, std::string const& role) {
  auto const d = io::digest_file(path);
  return {{"role", role}, {"path", path.string()}, {"bytes", d.bytes}, {"sha256", d.sha256}};
}

/// An output's entry: its digest as recorded while it was written.
ojson output_entry(fs::path const& path, std::string const& role) {
  auto const d = io::output_digest(path);
  return {{"role", role}, {"path", path.string()}, {"bytes", d.bytes}, {"sha256", d.sha256}};
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

/// Planes captured for the pictures, in Crop::planes order.
enum CropPlane { kRedBefore, kGreenBefore, kBlueBefore, kRedAfter, kGreenAfter, kBlueAfter, kNdviBefore, kNdviAfter,
                 kClass, kCropPlanes };

io::Georef crop_georef(Grid const& grid, Crop const& c) {
  io::Georef g;
  g.geotransform = window_geotransform(grid, c.window, c.step);
  g.crs_wkt = grid.crs_wkt;
  return g;
}

/// A site's picture window: its bounding box plus max(8 px, 15 % of the longer side), clipped
/// to the grid; nullopt for a site without geometry or outside the scenes.
std::optional<TileWindow> picture_window(Grid const& grid, io::Zone const& z) {
  if (z.parts.empty()) return std::nullopt;
  auto const& gt = grid.geotransform;
  double const xa = (z.bbox[0] - gt[0]) / gt[1], xb = (z.bbox[2] - gt[0]) / gt[1];  // as window_of_bounds
  double const ya = (z.bbox[1] - gt[3]) / gt[5], yb = (z.bbox[3] - gt[3]) / gt[5];
  double const margin = std::max(8.0, 0.15 * std::max(std::abs(xb - xa), std::abs(yb - ya)));
  auto const w = clip_to_grid(grid, window_of_bounds(grid, z.bbox, margin));
  if (w.width <= 0 || w.height <= 0) return std::nullopt;
  return w;
}

/// The part of the crop `g` (on the national grid) that a unit's window holds, as a request on
/// the unit's grid sampling the same lattice, and where it goes in the whole crop; nullopt when
/// no sample of the crop falls in the window.
std::optional<std::pair<CropRequest, io::CropPiece>> crop_piece(CropRequest const& g, TileWindow const& unit) {
  std::int64_t const step = g.step;
  std::int64_t const cols = (g.window.width + step - 1) / step, rows = (g.window.height + step - 1) / step;
  auto first = [&](std::int64_t crop0, std::int64_t unit0) {  // first sample at or after unit0
    return std::max<std::int64_t>(0, (unit0 - crop0 + step - 1) / step);
  };
  auto last = [&](std::int64_t crop0, std::int64_t unit_end, std::int64_t count) {  // last sample before unit_end
    std::int64_t const d = unit_end - 1 - crop0;
    return d < 0 ? -1 : std::min(count - 1, d / step);
  };
  std::int64_t const i0 = first(g.window.x0, unit.x0), i1 = last(g.window.x0, unit.x0 + unit.width, cols);
  std::int64_t const j0 = first(g.window.y0, unit.y0), j1 = last(g.window.y0, unit.y0 + unit.height, rows);
  if (i0 > i1 || j0 > j1) return std::nullopt;
  CropRequest local;
  local.step = g.step;
  local.window.x0 = g.window.x0 + i0 * step - unit.x0;
  local.window.y0 = g.window.y0 + j0 * step - unit.y0;
  local.window.width = static_cast<std::int32_t>((i1 - i0) * step + 1);
  local.window.height = static_cast<std::int32_t>((j1 - j0) * step + 1);
  io::CropPiece where;
  where.crop_window = g.window;
  where.step = g.step;
  where.crop_width = static_cast<std::int32_t>(cols);
  where.crop_height = static_cast<std::int32_t>(rows);
  where.column = static_cast<std::int32_t>(i0);
  where.row = static_cast<std::int32_t>(j0);
  return std::make_pair(local, where);
}

/// The pictures of each site, in the order write_site_pictures writes them.
constexpr std::array<char const*, 5> kSitePictures{"before_rgb", "after_rgb", "ndvi_before", "ndvi_after", "change"};

/// "site-00001_<kind>.png", in the picture folder.
std::string site_picture_name(std::size_t site, std::string const& kind) {
  char stem[32];
  std::snprintf(stem, sizeof stem, "site-%05zu_", site + 1);
  return stem + kind + ".png";
}

/// With --overwrite, an earlier run's pictures and report pages that this run did not write
/// (it pictured fewer sites, or made fewer pages): removed, so that nothing in the folder looks
/// like part of this report while it is not. Only files of reclaim's own names are touched.
std::size_t remove_earlier_report_files(fs::path const& out_dir, std::vector<fs::path> const& pictures,
                                        std::vector<fs::path> const& pages) {
  auto ours = [](std::string const& name, std::string_view folder) {
    auto digits = [](std::string_view t) { return !t.empty() && t.find_first_not_of("0123456789") == t.npos; };
    std::string_view n(name);
    if (folder == "pictures") {
      if (n == "legend.png" || n == "overview.png") return true;
      if (!n.starts_with("site-") || !n.ends_with(".png") || n.find('_') == n.npos) return false;
      auto const kind = n.substr(n.find('_') + 1, n.size() - n.find('_') - 5);
      return digits(n.substr(5, n.find('_') - 5)) &&
             std::find(kSitePictures.begin(), kSitePictures.end(), kind) != kSitePictures.end();
    }
    for (std::string_view prefix : {"region-", "sites-"})
      if (n.starts_with(prefix) && n.ends_with(".html") && digits(n.substr(prefix.size(), n.size() - prefix.size() - 5)))
        return true;
    return false;
  };
  std::set<fs::path> keep(pictures.begin(), pictures.end());
  keep.insert(pages.begin(), pages.end());
  std::size_t removed = 0;
  for (std::string_view folder : {"pictures", "pages"}) {
    std::error_code ec;
    for (auto const& entry : fs::directory_iterator(out_dir / folder, ec)) {
      // A picture's georeferencing sidecars (.wld, .png.aux.xml) go with it.
      std::string name = entry.path().filename().string();
      if (name.ends_with(".png.aux.xml")) name.resize(name.size() - 8);
      if (name.ends_with(".wld")) name.replace(name.size() - 4, 4, ".png");
      auto const base = entry.path().parent_path() / name;
      if (!entry.is_regular_file() || keep.count(base) || !ours(name, folder)) continue;
      if (fs::remove(entry.path(), ec)) ++removed;
    }
  }
  return removed;
}

/// The NDVI pictures' colour bar for the report: the ramp's colours at 9 even steps of lo..hi.
ojson ndvi_scale(double lo, double hi) {
  ojson colors = ojson::array();
  for (int k = 0; k <= 8; ++k) {
    auto const c = io::ndvi_ramp(k / 8.0);
    char hex[8];
    std::snprintf(hex, sizeof hex, "#%02x%02x%02x", c[0], c[1], c[2]);
    colors.push_back(hex);
  }
  return {{"min", lo}, {"max", hi}, {"label", "NDVI"}, {"colors", colors}};
}

/// Writes one site's five pictures from its crop; returns their captions and relative paths.
ojson write_site_pictures(fs::path const& picture_dir, std::size_t site, Crop const& crop, Grid const& grid,
                          ChangeInputs const& in) {
  auto const geo = crop_georef(grid, crop);
  auto span = [&crop](int k) { return std::span<float const>(crop.planes[static_cast<std::size_t>(k)]); };
  // One stretch for both epochs, so colour differences are real differences.
  auto const stretch = io::percentile_stretch(span(kRedBefore), span(kGreenBefore), span(kBlueBefore),
                                              span(kRedAfter), span(kGreenAfter), span(kBlueAfter));
  ojson list = ojson::array();
  std::size_t next = 0;
  auto emit = [&](std::string const& caption) {
    std::string const name = site_picture_name(site, kSitePictures[next++]);
    list.push_back({{"caption", caption}, {"path", "pictures/" + name}});
    return picture_dir / name;
  };
  io::write_rgb_png(emit("true colour " + in.before.label), crop.width, crop.height, span(kRedBefore),
                    span(kGreenBefore), span(kBlueBefore), stretch, geo);
  io::write_rgb_png(emit("true colour " + in.after.label), crop.width, crop.height, span(kRedAfter),
                    span(kGreenAfter), span(kBlueAfter), stretch, geo);
  constexpr double kNdviLo = -0.2, kNdviHi = 0.9;
  io::write_scalar_png(emit("NDVI " + in.before.label), crop.width, crop.height, span(kNdviBefore), kNdviLo, kNdviHi, geo);
  list.back()["scale"] = ndvi_scale(kNdviLo, kNdviHi);
  io::write_scalar_png(emit("NDVI " + in.after.label), crop.width, crop.height, span(kNdviAfter), kNdviLo, kNdviHi, geo);
  list.back()["scale"] = ndvi_scale(kNdviLo, kNdviHi);
  io::write_class_png(emit("change " + in.before.label + " → " + in.after.label), crop.width, crop.height,
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
  std::optional<std::string> region_field;
  std::vector<std::vector<io::EpochMean>> const& epoch_series;  ///< per site: mean NDVI per epoch
  ojson const& site_pages;
  /// Pictures embedded in report.html up to this many sites with pictures; above it the page
  /// links the PNG files beside it, so a big report stays small and quick to open.
  std::size_t embed_pictures_max;
};

ojson scene_entry(std::string const& label, io::SceneSpec const& scene);  // below

/// The report's "least progress" and "most rehabilitated" lists: graded sites ranked by grade
/// (the grade table's order, E last), then by cover after (lower first for the least), then by
/// layer order; up to 5 each, and no site in both (docs/metrics.md).
ojson highlight_lists(std::vector<io::SiteMetrics> const& metrics, io::AssessParams const& ap) {
  std::vector<std::size_t> graded;
  auto rank = [&](std::size_t s) {
    for (std::size_t k = 0; k < ap.grades.size(); ++k)
      if (ap.grades[k].grade == metrics[s].grade) return k;
    return ap.grades.size();  // E
  };
  for (std::size_t s = 0; s < metrics.size(); ++s)
    if (metrics[s].grade != "n/a" && std::isfinite(metrics[s].cover_after_pct)) graded.push_back(s);
  std::size_t const n = std::min<std::size_t>(5, graded.size() / 2);
  if (n == 0) return ojson::array();
  auto worst = graded, best = graded;
  std::stable_sort(worst.begin(), worst.end(), [&](std::size_t a, std::size_t b) {
    if (rank(a) != rank(b)) return rank(a) > rank(b);
    return metrics[a].cover_after_pct < metrics[b].cover_after_pct;
  });
  std::stable_sort(best.begin(), best.end(), [&](std::size_t a, std::size_t b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return metrics[a].cover_after_pct > metrics[b].cover_after_pct;
  });
  worst.resize(n);
  std::vector<std::size_t> top;  // ties could put a site in both: never
  for (auto const s : best)
    if (top.size() < n && std::find(worst.begin(), worst.end(), s) == worst.end()) top.push_back(s);
  best = std::move(top);
  return ojson::array({{{"title", "Least progress"}, {"sites", worst}}, {{"title", "Most rehabilitated"}, {"sites", best}}});
}

/// From the grid's CRS to WGS 84 longitude/latitude; null when the CRS is unknown.
std::unique_ptr<OGRCoordinateTransformation> wgs84_transform(std::string const& crs_wkt) {
  if (crs_wkt.empty()) return nullptr;
  OGRSpatialReference from, to;
  if (from.importFromWkt(crs_wkt.c_str()) != OGRERR_NONE) return nullptr;
  to.importFromEPSG(4326);
  from.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  to.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return std::unique_ptr<OGRCoordinateTransformation>(OGRCreateCoordinateTransformation(&from, &to));
}

/// "40.7123° N, 113.9876° E": the centre of the site's box, for finding it on any map.
std::optional<std::string> site_location(io::Zone const& z, OGRCoordinateTransformation* t) {
  if (!t || z.parts.empty()) return std::nullopt;
  double x = (z.bbox[0] + z.bbox[2]) / 2, y = (z.bbox[1] + z.bbox[3]) / 2;
  if (!t->Transform(1, &x, &y)) return std::nullopt;
  char text[64];
  std::snprintf(text, sizeof text, "%.4f° %s, %.4f° %s", std::abs(y), y >= 0 ? "N" : "S", std::abs(x), x >= 0 ? "E" : "W");
  return std::string(text);
}

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
  report["run"] = ojson::array({ojson::array({"before", in.before_epoch.scene.input.string()}),
                                ojson::array({"after", in.after_epoch.scene.input.string()}),
                                ojson::array({"sites", f.sites_path}),
                                ojson::array({"years between epochs", summary["years"]}),
                                ojson::array({"coverage", f.coverage}),
                                ojson::array({"vegetated at NDVI ≥", ap.vegetated_ndvi}),
                                ojson::array({"reclaim", RECLAIM_VERSION})});
  report["manifest"] = "manifest.json";
  // How each epoch was read, and the grade table: what a reader needs to trust the numbers.
  for (auto const& [label, scene] : {std::pair{in.before.label, &in.before_epoch.scene},
                                     std::pair{in.after.label, &in.after_epoch.scene}}) {
    auto const e = scene_entry(label, *scene);
    for (auto const& [key, name] : {std::pair{"sensor", ": sensor"}, std::pair{"mask", ": cloud/shadow mask"},
                                    std::pair{"calibration", ": calibration"}}) {
      ojson row = ojson::array();
      row.push_back(label + name);
      row.push_back(e[key]);
      report["run"].push_back(row);
    }
  }
  std::string grade_text;
  for (auto const& g : ap.grades) {
    std::string cond;
    auto add = [&](bool on, std::string const& text) {
      if (!on) return;
      if (!cond.empty()) cond += ", ";
      cond += text;
    };
    add(g.min_cover_after_pct > -1e299, "cover after ≥ " + io::format_metric(g.min_cover_after_pct, "%") + " %");
    add(g.max_still_bare_pct < 1e299, "still bare ≤ " + io::format_metric(g.max_still_bare_pct, "%") + " %");
    add(g.min_cover_gain_pp > -1e299, "cover gain ≥ " + io::format_metric(g.min_cover_gain_pp, "%") + " pp");
    if (!grade_text.empty()) grade_text += "; ";
    grade_text += g.grade + ": " + (cond.empty() ? std::string("always") : cond);
  }
  report["run"].push_back(ojson::array({"grades (first that holds; else E)", grade_text}));
  report["run"].push_back(ojson::array({"disturbance flag at", std::to_string(ap.disturbance_min_ha).substr(0, 4) + " ha"}));
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
  if (f.region_field) {
    auto& cols = report["columns"];
    cols.insert(cols.begin() + 1, ojson{{"key", "region"}, {"label", *f.region_field}});
  }
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
  auto const to_wgs84 = wgs84_transform(in.grid().crs_wkt);
  for (std::size_t s = 0; s < sites.zones.size(); ++s) {
    ojson m;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      auto const& cell = table.rows[s][c];
      if (columns[c] == "grade" || columns[c] == "flags") continue;
      double const v = std::get<double>(cell);
      m[columns[c]] = std::isfinite(v) ? ojson(v) : ojson(nullptr);
    }
    ojson site{{"id", sites.zones[s].id},
               {"grade", metrics[s].grade},
               {"flags", metrics[s].flags},
               {"metrics", m},
               {"pictures", f.site_pictures[s]}};
    if (f.region_field)
      for (auto const& [name, value] : sites.zones[s].attributes)
        if (name == *f.region_field) site["region"] = value;
    if (auto const where = site_location(sites.zones[s], to_wgs84.get())) site["location"] = *where;
    // A top grade with a flag raised: say why (grades read cover and bare ground only).
    if (!ap.grades.empty() && metrics[s].grade == ap.grades.front().grade && !metrics[s].flags.empty())
      site["notes"] = ojson::array({"Graded " + metrics[s].grade + " although flagged: grades read vegetation cover, "
                                    "bare ground and cover gain only (docs/metrics.md); the flags are findings to check "
                                    "on the change map."});
    if (s < f.epoch_series.size() && f.epoch_series[s].size() > 2) {  // intermediate epochs: the NDVI series
      ojson points = ojson::array();
      for (auto const& e : f.epoch_series[s])
        points.push_back(ojson::array({e.year, std::isfinite(e.ndvi_mean) ? ojson(e.ndvi_mean) : ojson(nullptr)}));
      site["series"] = {{"label", "mean NDVI"}, {"points", points}};
    }
    site_list.push_back(site);
  }
  report["sites"] = site_list;
  std::size_t pictured = 0;
  for (auto const& p : f.site_pictures) pictured += p.empty() ? 0 : 1;
  report["embed_pictures"] = pictured <= f.embed_pictures_max;
  if (!f.site_pages.empty()) report["site_pages"] = f.site_pages;
  report["highlights"] = highlight_lists(metrics, ap);
  if (summary.contains("regions")) {
    // Totals per region in the page too, not only in summary.json.
    ojson rows = ojson::array();
    for (auto const& [name, t] : summary["regions"]["totals"].items()) {
      ojson values;
      for (auto const& key : {"sites", "area_ha", "revegetated_ha", "still_bare_ha", "newly_disturbed_ha",
                              "cover_before_pct", "cover_after_pct"})
        values[key] = t[key];
      rows.push_back({{"name", name}, {"values", values}, {"grades", t["grades"]}});
    }
    report["regions"] = {{"field", summary["regions"]["field"]},
                         {"columns", ojson::array({{{"key", "sites"}, {"label", "Sites"}},
                                                   {{"key", "area_ha"}, {"label", "Area"}, {"unit", "ha"}},
                                                   {{"key", "revegetated_ha"}, {"label", "Revegetated"}, {"unit", "ha"}},
                                                   {{"key", "still_bare_ha"}, {"label", "Still bare"}, {"unit", "ha"}},
                                                   {{"key", "newly_disturbed_ha"}, {"label", "New disturbance"}, {"unit", "ha"}},
                                                   {{"key", "cover_before_pct"}, {"label", "Cover " + in.before.label}, {"unit", "%"}},
                                                   {{"key", "cover_after_pct"}, {"label", "Cover " + in.after.label}, {"unit", "%"}}})},
                         {"rows", rows}};
  }
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

/// A scene as the run read it: label, path, sensor, the quality mask and calibration applied.
ojson scene_entry(std::string const& label, io::SceneSpec const& scene) {
  return {{"label", label},
          {"path", scene.input.string()},
          {"sensor", io::sensor_name(scene.sensor)},
          {"mask", scene.mask_text},
          {"calibration", "reflectance = " + io::calibration_text(scene)}};
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
          {"before_scene", scene_entry(in.before.label, in.before_epoch.scene)},
          {"after_scene", scene_entry(in.after.label, in.after_epoch.scene)},
          {"years", years},
          {"carbon_rates_tC_per_ha_yr", ap.carbon_rates},
          {"vegetated_ndvi", ap.vegetated_ndvi},
          {"min_valid_fraction", ap.min_valid_fraction},
          {"disturbance_min_ha", ap.disturbance_min_ha},
          {"pictures", pictures},
          {"grades", grade_table},
          {"change_rules", rules}};
}

/// summary.json: the epochs, years, totals over all sites and, with a region field, per region.
ojson summary_document(ChangeInputs const& in, io::AssessParams const& ap,
                       std::vector<std::pair<double, Epoch>> const& epochs, LoadedZones const& sites,
                       std::vector<io::SiteMetrics> const& metrics, std::optional<std::string> const& region_field) {
  ojson summary;
  summary["before"] = scene_entry(in.before.label, in.before_epoch.scene);
  summary["after"] = scene_entry(in.after.label, in.after_epoch.scene);
  summary["years"] = std::isfinite(ap.years) ? ojson(ap.years) : ojson(nullptr);
  if (!epochs.empty()) {
    ojson list = ojson::array();
    for (auto const& [year, epoch] : epochs) {
      ojson entry = {{"year", year}};
      entry.update(scene_entry(epoch.scene.label, epoch.scene));
      entry.erase("label");
      list.push_back(entry);
    }
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

/// What the user asked of assess beyond the change inputs, validated before any file is opened.
struct AssessRequest {
  std::vector<pixel::Index> extra;  ///< indices written per epoch besides NDVI
  CoverageMode mode = CoverageMode::exact;
  std::array<double, 3> rates{1, 2, 3};
  int picture_size = 256;
  int pictures_max = 1000;
  int embed_pictures_max = 100;
  int site_pages_above = 200;
  bool pictures = true;
  /// false (--no-rasters): no COG; only the tiles that meet a site's window are read.
  bool rasters = true;
  std::optional<std::string> region_field;
};

AssessRequest assess_request_from(OptionValues const& r) {
  if (!r.count("sites")) throw usage_error("--sites is required");
  if (!r.count("out")) throw usage_error("--out DIR is required");
  AssessRequest q;
  if (r.count("index"))
    for (auto i : parse_index_list(lower(r["index"].as<std::string>())))
      if (i != pixel::Index::ndvi) q.extra.push_back(i);
  auto const mode = parse_coverage_mode(r["coverage"].as<std::string>());
  if (!mode) throw usage_error("--coverage " + r["coverage"].as<std::string>() + ": expected exact, center or all-touched");
  q.mode = *mode;
  auto const rates = r.numbers("carbon-rates");
  if (rates.size() != 3 || !(0 <= rates[0] && rates[0] <= rates[1] && rates[1] <= rates[2]))
    r.refuse("carbon-rates", "expected three increasing numbers LOW,CENTRAL,HIGH, none negative");
  q.rates = {rates[0], rates[1], rates[2]};
  q.picture_size = r.integer("picture-size", 16, 4096);
  q.pictures_max = r.integer("pictures-max", 0, std::numeric_limits<int>::max());
  q.embed_pictures_max = r.integer("embed-pictures-max", 0, std::numeric_limits<int>::max());
  q.site_pages_above = r.integer("site-pages-above", 0, std::numeric_limits<int>::max());
  q.pictures = r.count("no-pictures") == 0;
  q.rasters = r.count("no-rasters") == 0;
  if (r.count("region-field")) q.region_field = r["region-field"].as<std::string>();
  return q;
}

bool is_number(std::string const& t) { return to_number(t).has_value(); }

/// The intermediate epochs (--epoch YEAR=PATH), resolved now so a bad one fails before any output exists.
std::vector<std::pair<double, Epoch>> resolve_epochs(OptionValues const& r, ChangeInputs const& in) {
  std::vector<std::pair<double, Epoch>> epochs;
  if (!r.count("epoch")) return epochs;
  if (!is_number(in.before.label) || !is_number(in.after.label))
    throw usage_error("--epoch needs years as the labels of --before and --after (YEAR=PATH or YEAR.tif)");
  for (auto const& text : r["epoch"].as<std::vector<std::string>>()) {
    auto const e = parse_labeled_path(text);
    if (!is_number(e.label)) throw usage_error("--epoch " + text + ": expected YEAR=PATH");
    auto epoch = resolve_epoch(e.label, e.path, sensor_options_from(r), r);
    io::require_bands(epoch.scene, {pixel::Index::ndvi});
    epochs.emplace_back(*to_number(e.label), std::move(epoch));
  }
  return epochs;
}

io::AssessParams assess_params_from(OptionValues const& r, AssessRequest const& q, ChangeInputs const& in,
                                    EventLog& log) {
  io::AssessParams ap;
  ap.carbon_rates = q.rates;
  // NDVI lies in [-1, 1]; a share in [0, 1]; a disturbance of 0 ha or less would flag every site.
  ap.vegetated_ndvi =
      r.count("vegetated-ndvi") ? r.number_in("vegetated-ndvi", -1.0, 1.0) : in.scheme.thresholds.ndvi_vegetated;
  ap.min_valid_fraction = r.number_in("min-valid-fraction", 0.0, 1.0);
  ap.disturbance_min_ha = r.positive("disturbance-min-ha");
  if (r.count("grades")) ap.grades = io::load_grade_rules(r["grades"].as<std::string>());
  ap.years = kNaN;
  if (r.count("years")) {
    ap.years = r.number("years");
  } else {
    auto const b = to_number(in.before.label), a = to_number(in.after.label);
    if (a && b) ap.years = *a - *b;
  }
  if (!std::isfinite(ap.years))
    log.warning("years between the epochs unknown (give --years, or YEAR=PATH labels): no carbon estimate");
  else if (!(ap.years > 0))
    throw usage_error("the after epoch must be later than the before epoch (years = " + std::to_string(ap.years) + ")");
  return ap;
}

/// The assess pass's zonal products, in io::AssessProducts order.
std::vector<ZonalProduct> assess_products(ChangeInputs const& in, ChangePlanes const& planes, ZoneRequest const& zr,
                                          double vegetated_ndvi) {
  ZonalProduct cls;
  cls.name = "change_class";
  cls.categorical = true;
  cls.class_names = in.scheme.category_names();
  ZonalProduct veg_before, veg_after;
  veg_before.name = "vegetated_" + in.before.label;
  veg_after.name = "vegetated_" + in.after.label;
  veg_before.categorical = veg_after.categorical = true;
  veg_before.threshold = veg_after.threshold = vegetated_ndvi;
  veg_before.plane = planes.plane(0, pixel::Index::ndvi);
  veg_after.plane = planes.plane(1, pixel::Index::ndvi);
  return {cls,
          value_product("dndvi", 1, zr, -2.0, 2.0 + 1e-9),
          value_product("ndvi_" + in.before.label, planes.plane(0, pixel::Index::ndvi), zr, -1.0, 1.0 + 1e-9),
          value_product("ndvi_" + in.after.label, planes.plane(1, pixel::Index::ndvi), zr, -1.0, 1.0 + 1e-9),
          veg_before,
          veg_after};
}

/// Writes pictures on its own thread, in the order crops complete, so neither the compute
/// threads nor the COG writer wait on PNG encoding. The first error is rethrown by finish().
class PictureWriter {
 public:
  PictureWriter() : m_thread([this] { loop(); }) {}
  PictureWriter(PictureWriter const&) = delete;
  PictureWriter& operator=(PictureWriter const&) = delete;
  ~PictureWriter() { stop(); }
  /// Queues a site's pictures; waits while kMaxPending are queued, so that finished crops
  /// cannot pile up in memory faster than they are encoded (the caller is a pipeline thread).
  void post(std::function<void()> task) {
    {
      std::unique_lock lock(m_mutex);
      m_space.wait(lock, [this] { return m_tasks.size() < kMaxPending; });
      m_tasks.push_back(std::move(task));
    }
    m_ready.notify_one();
  }
  /// Waits for every posted picture; rethrows the first error.
  void finish() {
    stop();
    if (m_error) std::rethrow_exception(m_error);
  }

 private:
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_closed = true;
    }
    m_ready.notify_one();
    if (m_thread.joinable()) m_thread.join();
  }
  void loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(m_mutex);
        m_ready.wait(lock, [this] { return m_closed || !m_tasks.empty(); });
        if (m_tasks.empty()) return;
        task = std::move(m_tasks.front());
        m_tasks.pop_front();
      }
      m_space.notify_one();
      if (m_error) continue;  // after a failure the rest are dropped; finish() reports it
      try {
        task();
      } catch (...) {
        m_error = std::current_exception();
      }
    }
  }
  static constexpr std::size_t kMaxPending = 8;
  std::mutex m_mutex;
  std::condition_variable m_ready, m_space;
  std::deque<std::function<void()>> m_tasks;
  bool m_closed = false;
  std::exception_ptr m_error;
  std::thread m_thread;
};

/// The run's layout, made once before any output exists: inputs, planes, sites, zonal work,
/// picture windows and the one tile plan they are all cut from.
struct AssessPlan {
  AssessUnit const* unit = nullptr;    ///< one unit of a national run (a window, its sites)
  AssessMerge const* merge = nullptr;  ///< the merge of a national run (no pass)
  Grid national;                       ///< the grid the epochs are read onto (a unit reads a window of it)
  ChangeInputs in;
  ChangePlanes planes;
  std::vector<std::pair<double, Epoch>> epochs;
  io::AssessParams ap;
  ZoneRequest zr;
  LoadedZones sites;
  fs::path out_dir, picture_dir;
  PassLayout layout;
  ZonalWork zonal;
  std::vector<CropRequest> crops;
  std::vector<std::size_t> crop_site;  ///< crops[c] is site crop_site[c]'s; the overview comes last
  /// The sites that get pictures (the first --pictures-max with a picture window, in layer
  /// order, over the whole layer) and their crops on the national grid.
  std::vector<std::pair<std::size_t, CropRequest>> picture_sites;
  /// A unit's crops are pieces of whole crops: crops[c] holds piece_of[c] (key, place).
  std::vector<io::CropPiece> piece_of;
  bool has_overview = false;           ///< crops.back() is the overview (or a unit's piece of it)
  std::vector<CropSource> crop_planes;  ///< what is captured, in CropPlane order
  std::vector<fs::path> picture_files;  ///< every picture the run writes (sorted), for the claim and manifest
  ojson site_pages = ojson::array();   ///< report pages of site sections (report.hpp "site_pages")
  std::vector<fs::path> page_files;    ///< their files, for the claim and manifest
};

/// Tiles of passes that read only where sites are: 512 x 512 (whole blocks), finer than the
/// default's 1 Mpixel so that fewer pixels far from any site are read, not so fine that the
/// per-tile cost (a warped read of every scene of a composite) dominates.
constexpr std::int64_t kSiteTilePixels = 512 * 512;

/// Drops the tiles of `plan` that meet none of `boxes` (map units of the plan's grid): a pass
/// whose pixels matter only in the sites (and their pictures' windows) reads nothing else.
void keep_tiles_meeting(TilePlan& plan, std::vector<Bounds> const& boxes) {
  std::erase_if(plan.tiles, [&](TileWindow const& t) {
    auto const box = window_bounds(plan.grid, t);
    return std::none_of(boxes.begin(), boxes.end(), [&](Bounds const& b) { return overlaps(b, box); });
  });
}

/// With --no-rasters, the rasters an earlier run wrote under this run's names (they would look
/// like this run's); their PAM sidecars go with them. Returns how many files were removed.
std::size_t remove_earlier_rasters(AssessPlan const& p) {
  if (p.merge || p.unit || !p.layout.outputs.empty()) return 0;
  std::size_t removed = 0;
  for (auto const& o : p.planes.outputs)
    for (auto const& f : {o.path, fs::path(o.path.string() + ".aux.xml")}) {
      std::error_code ec;
      if (fs::is_regular_file(f, ec) && fs::remove(f, ec)) ++removed;
    }
  return removed;
}

/// A unit's COGs with `keep-rasters = "sites"`: its sites' windows (as their pictures frame
/// them) cut to the unit, overlapping ones joined into their bounding box until none overlap
/// (and near ones joined while there are more than 64), each written to windows/NNN/ (in row
/// order) under the unit's folder.
std::vector<io::OutputRaster> site_window_outputs(AssessPlan const& p) {
  auto const& u = p.unit->window;
  std::vector<TileWindow> windows;
  for (auto const& z : p.sites.zones) {
    auto const w = picture_window(p.national, z);
    if (!w) continue;
    auto local = intersection(*w, u);
    if (local.pixel_count() == 0) continue;
    local.x0 -= u.x0;  // on the unit's grid
    local.y0 -= u.y0;
    windows.push_back(local);
  }
  auto join = [](TileWindow& w, TileWindow const& v) {  // w becomes the bounding box of both
    std::int64_t const x1 = std::max(w.x0 + w.width, v.x0 + v.width), y1 = std::max(w.y0 + w.height, v.y0 + v.height);
    w.x0 = std::min(w.x0, v.x0);
    w.y0 = std::min(w.y0, v.y0);
    w.width = static_cast<std::int32_t>(x1 - w.x0);
    w.height = static_cast<std::int32_t>(y1 - w.y0);
  };
  auto join_overlapping = [&] {  // a pixel in one file only
    for (bool joined = true; joined;) {
      joined = false;
      for (std::size_t a = 0; a < windows.size() && !joined; ++a)
        for (std::size_t b = a + 1; b < windows.size() && !joined; ++b) {
          if (!overlaps(windows[a], windows[b])) continue;
          join(windows[a], windows[b]);
          windows.erase(windows.begin() + static_cast<std::ptrdiff_t>(b));
          joined = true;
        }
    }
  };
  join_overlapping();
  // Each window's files stay open while the unit runs: with many sites in one unit (a mining
  // district), windows whose corners share a square of `cell` px are joined, the square doubling
  // until at most kMaxSiteWindows are left.
  constexpr std::size_t kMaxSiteWindows = 64;
  for (std::int64_t cell = 512; windows.size() > kMaxSiteWindows; cell *= 2) {
    std::map<std::pair<std::int64_t, std::int64_t>, TileWindow> by_cell;
    for (auto const& w : windows) {
      auto const key = std::make_pair(w.y0 / cell, w.x0 / cell);
      if (auto const it = by_cell.find(key); it != by_cell.end()) join(it->second, w);
      else by_cell.emplace(key, w);
    }
    windows.clear();
    for (auto const& [key, w] : by_cell) windows.push_back(w);
    join_overlapping();
  }
  std::sort(windows.begin(), windows.end(),
            [](TileWindow const& a, TileWindow const& b) { return std::tie(a.y0, a.x0) < std::tie(b.y0, b.x0); });
  std::vector<io::OutputRaster> out;
  auto const& whole = p.planes.outputs;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    char folder[32];
    std::snprintf(folder, sizeof folder, "windows/%03zu", w);
    for (std::size_t k = 0; k < whole.size(); ++k) {
      auto o = whole[k];
      o.plane = io::source_plane(whole, k);
      o.path = o.path.parent_path() / folder / o.path.filename();
      o.window = windows[w];
      out.push_back(std::move(o));
    }
  }
  return out;
}

/// The report's site pages: one per value of the region field (sorted; sites without one
/// last), else 200 sites each in layer order; report.html links them and keeps the tables.
void plan_site_pages(AssessPlan& p, AssessRequest const& q) {
  std::vector<std::pair<std::string, std::vector<std::size_t>>> groups;
  auto const& zones = p.sites.zones;
  if (q.region_field) {
    std::map<std::string, std::vector<std::size_t>> by_region;
    std::vector<std::size_t> none;
    for (std::size_t s = 0; s < zones.size(); ++s) {
      bool found = false;
      for (auto const& [name, value] : zones[s].attributes)
        if (name == *q.region_field && !value.empty()) {
          by_region[value].push_back(s);
          found = true;
        }
      if (!found) none.push_back(s);
    }
    for (auto& [name, list] : by_region) groups.emplace_back(name, std::move(list));
    if (!none.empty()) groups.emplace_back("(no " + *q.region_field + ")", std::move(none));
  } else {
    constexpr std::size_t kPerPage = 200;
    for (std::size_t a = 0; a < zones.size(); a += kPerPage) {
      std::size_t const b = std::min(zones.size(), a + kPerPage);
      std::vector<std::size_t> list(b - a);
      std::iota(list.begin(), list.end(), a);
      groups.emplace_back("sites " + std::to_string(a + 1) + "–" + std::to_string(b), std::move(list));
    }
  }
  for (std::size_t k = 0; k < groups.size(); ++k) {
    char name[64];
    std::snprintf(name, sizeof name, "pages/%s-%03zu.html", q.region_field ? "region" : "sites", k + 1);
    p.site_pages.push_back({{"name", groups[k].first}, {"path", name}, {"sites", groups[k].second}});
    p.page_files.push_back(p.out_dir / name);
  }
}

void plan_assess_pass(OptionValues const& r, AssessRequest const& q, PassRunner& runner, EventLog& log,
                      AssessPlan& p) {
  // Per-epoch outputs: NDVI and the extra indices. The pictures' true colour is computed at their
  // samples alone, from the input planes (SiteCropObserver, CropSource::computed).
  std::vector<pixel::Index> epoch_outputs{pixel::Index::ndvi};
  for (auto i : q.extra) epoch_outputs.push_back(i);  // (insert() trips a false GCC 12 -Warray-bounds)
  p.in = prepare_change_inputs(r, epoch_outputs, /*year_labels=*/true);
  p.national = p.in.grid();
  if ((p.unit || p.merge) && p.in.scheme.rules.needs(pixel::ChangeVar::magnitude))
    throw usage_error("a rules file that reads `magnitude` standardises the bands over each run's own pixels, so the "
                      "units of a national run would classify alike pixels differently: not supported in national runs");
  if (p.unit) {  // the unit's window of the grid, read as a grid of its own (same lattice)
    p.in.before_source = std::make_unique<io::WindowEpochSource>(std::move(p.in.before_source), p.unit->window);
    p.in.after_source = std::make_unique<io::WindowEpochSource>(std::move(p.in.after_source), p.unit->window);
    p.in.source = std::make_unique<CompositeTileSource>(
        std::vector<TileSource const*>{p.in.before_source.get(), p.in.after_source.get()});
  }
  auto const& grid = p.in.grid();
  p.epochs = resolve_epochs(r, p.in);
  p.ap = assess_params_from(r, q, p.in, log);
  p.out_dir = output_folder(r);
  p.picture_dir = p.out_dir / "pictures";
  p.planes = change_planes(p.in, epoch_outputs, p.out_dir);

  p.zr.source.path = r["sites"].as<std::string>();
  if (r.count("layer")) p.zr.source.layer = r["layer"].as<std::string>();
  if (r.count("id-field")) p.zr.source.id_field = r["id-field"].as<std::string>();
  p.zr.source.strict = r.count("strict") > 0;
  p.zr.mode = q.mode;
  p.zr.stats = {"mean", "median"};
  p.sites = load_zones(p.zr, grid.crs_wkt, log);
  if (q.pictures) {  // over the whole layer, so that a unit picks the sites a whole run picks
    for (std::size_t site = 0; site < p.sites.zones.size(); ++site) {
      auto const w = picture_window(p.national, p.sites.zones[site]);
      if (!w) continue;
      if (p.picture_sites.size() >= static_cast<std::size_t>(q.pictures_max)) {
        if (!p.unit) log.warning("pictures for the first " + std::to_string(q.pictures_max) + " sites only (--pictures-max)");
        break;
      }
      p.picture_sites.emplace_back(site, crop_request(*w, q.picture_size));
    }
  }
  if (p.unit) {  // only the sites that touch the unit, in layer order
    std::vector<io::Zone> touching;
    for (auto const site : p.unit->sites) {
      if (site >= p.sites.zones.size())
        throw input_error(p.zr.source.path.string() + ": has " + std::to_string(p.sites.zones.size()) +
                          " sites, the plan names site " + std::to_string(site) + " (the sites file changed?)");
      touching.push_back(std::move(p.sites.zones[site]));
    }
    p.sites.zones = std::move(touching);
  }
  if (q.region_field && std::find(p.sites.attribute_names.begin(), p.sites.attribute_names.end(), *q.region_field) ==
                            p.sites.attribute_names.end())
    throw usage_error("--region-field " + *q.region_field + ": no such field in " + p.zr.source.path.string());
  if (!p.unit && p.sites.zones.size() > static_cast<std::size_t>(q.site_pages_above)) plan_site_pages(p, q);

  auto& l = p.layout;
  l.label = p.in.before.label + "->" + p.in.after.label;
  l.source = p.in.source.get();
  l.inputs = p.in.files();
  for (auto const& [year, epoch] : p.epochs)
    for (auto const& f : epoch.files()) l.inputs.push_back(f);
  l.inputs.push_back(p.zr.source.path);
  if (r.job_path()) l.inputs.push_back(*r.job_path());
  l.pass = p.in.params;
  bool const sites_only = p.unit ? p.unit->keep_rasters != RasterKeep::units : !p.merge && !q.rasters;
  l.plan = runner.plan(*p.in.source, p.in.params, sites_only ? kSiteTilePixels : 0);
  if (sites_only) {
    // No full raster to write: only the tiles that meet a site's window (its box, the
    // pictures' margin) are read; the overview's samples elsewhere stay empty (docs/national.md).
    std::vector<Bounds> windows;
    for (auto const& z : p.sites.zones)
      if (auto const w = picture_window(p.national, z)) windows.push_back(window_bounds(p.national, *w));
    keep_tiles_meeting(l.plan, windows);
  }
  // A unit writes its COGs only when the plan keeps them; the merge writes VRTs of those.
  if (!p.merge && (p.unit ? p.unit->keep_rasters == RasterKeep::units : q.rasters)) l.outputs = p.planes.outputs;
  if (p.unit && p.unit->keep_rasters == RasterKeep::sites) l.outputs = site_window_outputs(p);
  l.plane_names = p.planes.names;
  if (!p.merge) {
    p.zonal = runner.zonal_work(l.plan, p.sites.zones, p.zr.mode, is_geographic(grid.crs_wkt),
                                assess_products(p.in, p.planes, p.zr, p.ap.vegetated_ndvi), !p.unit);
    l.zonal = &p.zonal;
  }
  if (p.unit) {
    l.tables.push_back(p.unit->partial);
    if (q.pictures && !p.unit->crops.empty()) l.tables.push_back(p.unit->crops);
  } else {
    for (auto const* name : {"sites.csv", "sites.gpkg", "summary.json", "report.html", "manifest.json"})
      l.tables.push_back(p.out_dir / name);
  }

  // Pictures: each site's window plus a margin, captured from the tiles as they are computed.
  if (!q.pictures) return;
  TileWindow whole;  // the overview: the whole grid, decimated to at most 1024 pixels a side
  whole.width = static_cast<std::int32_t>(p.national.width);
  whole.height = static_cast<std::int32_t>(p.national.height);
  auto const overview = crop_request(whole, 1024);
  if (p.merge) {  // the units' pieces, pasted by national_command.cpp: pictures, no pass
    for (auto const& [site, crop] : p.merge->site_crops)
      for (auto const* kind : kSitePictures) p.picture_files.push_back(p.picture_dir / site_picture_name(site, kind));
    p.picture_files.push_back(p.picture_dir / "legend.png");
    if (p.merge->overview) p.picture_files.push_back(p.picture_dir / "overview.png");
    std::sort(p.picture_files.begin(), p.picture_files.end());
    return;
  }
  if (p.unit) {  // the part of each whole crop on the unit's window, on the crop's own lattice
    std::map<std::size_t, std::size_t> local;  // site index in the layer -> in the unit
    for (std::size_t k = 0; k < p.unit->sites.size(); ++k) local[p.unit->sites[k]] = k;
    auto add_piece = [&](std::uint64_t key, CropRequest const& g, std::size_t site) {
      auto const piece = crop_piece(g, p.unit->window);
      if (!piece) return false;
      p.crops.push_back(piece->first);
      p.crop_site.push_back(site);
      p.piece_of.push_back(piece->second);
      p.piece_of.back().key = key;
      return true;
    };
    for (auto const& [site, g] : p.picture_sites)
      if (auto const it = local.find(site); it != local.end()) add_piece(site, g, it->second);
    p.has_overview = add_piece(io::kOverviewCropKey, overview, 0);
  } else {
    for (auto const& [site, g] : p.picture_sites) {
      p.crops.push_back(g);
      p.crop_site.push_back(site);
    }
    p.crops.push_back(overview);
    p.has_overview = true;
    for (auto const site : p.crop_site)
      for (auto const* kind : kSitePictures) p.picture_files.push_back(p.picture_dir / site_picture_name(site, kind));
    p.picture_files.push_back(p.picture_dir / "legend.png");
    p.picture_files.push_back(p.picture_dir / "overview.png");
    std::sort(p.picture_files.begin(), p.picture_files.end());
  }
  l.crops = p.crops.size();
  auto const& pl = p.planes;
  auto const& before = p.in.params.before;
  auto const& after = p.in.params.after;
  p.crop_planes.assign(kCropPlanes, CropSource::output(0));
  p.crop_planes[kRedBefore] = CropSource::computed(before, pixel::Index::red);
  p.crop_planes[kGreenBefore] = CropSource::computed(before, pixel::Index::green);
  p.crop_planes[kBlueBefore] = CropSource::computed(before, pixel::Index::blue);
  p.crop_planes[kRedAfter] = CropSource::computed(after, pixel::Index::red);
  p.crop_planes[kGreenAfter] = CropSource::computed(after, pixel::Index::green);
  p.crop_planes[kBlueAfter] = CropSource::computed(after, pixel::Index::blue);
  p.crop_planes[kNdviBefore] = CropSource::output(pl.plane(0, pixel::Index::ndvi));
  p.crop_planes[kNdviAfter] = CropSource::output(pl.plane(1, pixel::Index::ndvi));
  p.crop_planes[kClass] = CropSource::output(0);
}

/// The pass and its outputs, pictures and tables. Without full rasters, the pass computes only
/// the pixels something reads (pixels_read.hpp): the sites' zone items, the pictures' samples
/// and the site windows a national unit keeps.
void plan_assess(OptionValues const& r, AssessRequest const& q, PassRunner& runner, EventLog& log, AssessPlan& p) {
  plan_assess_pass(r, q, runner, log, p);
  auto& l = p.layout;
  bool const full_rasters = std::any_of(l.outputs.begin(), l.outputs.end(), [](auto const& o) { return !o.window; });
  if (p.merge || full_rasters) return;
  std::vector<TileWindow> windows;
  for (auto const& o : l.outputs) windows.push_back(*o.window);
  l.plan.pixels_read = pixels_read(l.plan, l.zonal, p.crops, windows);
}

/// What the passes produced (or, for the merge of a national run, the units together).
struct AssessResults {
  std::vector<ProductAccumulators> zonal;             ///< io::AssessProducts order
  std::vector<ZonalProduct> epoch_products;           ///< NDVI of each --epoch, in p.epochs order
  std::vector<ProductAccumulators> epoch_zonal;       ///< their accumulators
  std::vector<std::vector<io::EpochMean>> series;     ///< per site, sorted by year
  std::vector<ojson> site_pictures;                   ///< per site: captions and paths
  std::optional<Crop> overview;
};

/// The zonal product of an intermediate epoch's NDVI.
ZonalProduct epoch_product(AssessPlan const& p, Epoch const& epoch) {
  return value_product("ndvi_" + epoch.scene.label, 0, p.zr, -1.0, 1.0 + 1e-9);
}

/// Each site's mean NDVI per epoch (before, the --epoch ones, after), sorted by year.
void fill_series(AssessPlan const& p, AssessResults& res) {
  io::AssessProducts ids;
  auto const sites = p.sites.zones.size();
  res.series.assign(sites, {});
  if (is_number(p.in.before.label) && is_number(p.in.after.label)) {  // the series always holds the two epochs
    double const y_before = *to_number(p.in.before.label), y_after = *to_number(p.in.after.label);
    for (std::size_t s = 0; s < sites; ++s) {
      res.series[s].push_back({y_before, io::value_stat(res.zonal[ids.ndvi_before], s, "mean")});
      res.series[s].push_back({y_after, io::value_stat(res.zonal[ids.ndvi_after], s, "mean")});
    }
  }
  for (std::size_t e = 0; e < p.epochs.size(); ++e)
    for (std::size_t s = 0; s < sites; ++s)
      res.series[s].push_back({p.epochs[e].first, io::value_stat(res.epoch_zonal[e], s, "mean")});
  for (auto& sr : res.series)
    std::sort(sr.begin(), sr.end(), [](io::EpochMean const& a, io::EpochMean const& b) { return a.year < b.year; });
}

/// The main pass (rasters, zonal statistics, picture crops), then one NDVI pass per intermediate epoch.
AssessResults run_assess(AssessPlan& p, PassRunner& runner) {
  auto const& grid = p.in.grid();
  auto const& zones = p.sites.zones;
  AssessResults res;
  res.site_pictures.assign(zones.size(), ojson::array());
  std::optional<SiteCropObserver> crops;
  PictureWriter pictures;
  std::mutex overview_mutex;
  std::vector<io::CropPiece> pieces;  // a unit's: written to its crops file after the pass
  if (!p.crops.empty() && p.unit) {
    crops.emplace(p.layout.plan.tiles, p.crops, p.crop_planes, [&](std::size_t c, Crop&& crop) {
      io::CropPiece piece = p.piece_of[c];
      piece.piece = std::move(crop);
      std::lock_guard lock(overview_mutex);
      pieces.push_back(std::move(piece));
    });
    p.layout.observers = {&*crops};
  } else if (!p.crops.empty()) {
    std::error_code ec;  // e.g. a file named "pictures" in the way
    fs::create_directories(p.picture_dir, ec);
    if (ec) throw io_error(p.picture_dir.string() + ": cannot create the picture folder (" + ec.message() + ")");
    std::size_t const overview_crop = p.has_overview ? p.crops.size() - 1 : p.crops.size();
    // overview_crop by value: the observer runs during runner.run(), after this block's scope.
    crops.emplace(p.layout.plan.tiles, p.crops, p.crop_planes, [&, overview_crop](std::size_t c, Crop&& crop) {
      if (c == overview_crop) {
        std::lock_guard lock(overview_mutex);
        res.overview = std::move(crop);
        return;
      }
      auto shared = std::make_shared<Crop>(std::move(crop));
      pictures.post([&, c, shared] {
        res.site_pictures[p.crop_site[c]] = write_site_pictures(p.picture_dir, p.crop_site[c], *shared, grid, p.in);
      });
    });
    p.layout.observers = {&*crops};
  }
  auto stats = runner.run(p.layout);
  if (crops) runner.finishing(p.layout.label, "site pictures");
  pictures.finish();
  res.zonal = std::move(stats.zonal);
  bool const unit_pictures = p.unit && std::find(p.layout.tables.begin(), p.layout.tables.end(), p.unit->crops) !=
                                           p.layout.tables.end();
  if (unit_pictures) {  // the unit's pieces (none is a valid answer: no picture crosses it)
    // In a fixed order (pieces complete in whatever order the tiles do): a rerun writes the same bytes.
    std::sort(pieces.begin(), pieces.end(), [](io::CropPiece const& a, io::CropPiece const& b) {
      return std::tie(a.key, a.row, a.column) < std::tie(b.key, b.row, b.column);
    });
    io::write_crop_pieces(p.unit->crops, pieces);
    runner.wrote(p.unit->crops);
  }

  // Intermediate epochs: one read each, NDVI per site (their pixels are not kept). A unit reads
  // its window of the national grid, as for the two epochs.
  for (auto const& [year, epoch] : p.epochs) {
    auto const& scene = epoch.scene;
    std::unique_ptr<io::EpochSource> source_ptr = open_epoch(epoch, pixel::bands_needed(pixel::Index::ndvi), p.national);
    if (p.unit) source_ptr = std::make_unique<io::WindowEpochSource>(std::move(source_ptr), p.unit->window);
    auto const& source = *source_ptr;
    auto fused = source.fused_params();
    fused.index_params = p.in.params.before.index_params;
    fused.outputs[fused.output_count++] = pixel::Index::ndvi;
    PassLayout l;
    l.label = scene.label;
    l.source = &source;
    l.inputs = p.layout.inputs;
    l.pass = fused;
    l.plan = runner.plan(source, fused, kSiteTilePixels);
    std::vector<Bounds> boxes;  // NDVI per site only: the tiles that meet a site
    for (auto const& z : zones)
      if (!z.parts.empty()) boxes.push_back(z.bbox);
    keep_tiles_meeting(l.plan, boxes);
    l.plane_names = {"ndvi_" + scene.label};
    res.epoch_products.push_back(epoch_product(p, epoch));
    auto const work = runner.zonal_work(l.plan, zones, p.zr.mode, is_geographic(grid.crs_wkt),
                                        {res.epoch_products.back()}, !p.unit);
    l.zonal = &work;
    l.plan.pixels_read = pixels_read(l.plan, &work, {}, {});
    auto epoch_stats = runner.run(l);
    res.epoch_zonal.push_back(std::move(epoch_stats.zonal[0]));
  }
  fill_series(p, res);
  return res;
}

/// A unit's partial: the exact accumulators of its sites (the assess pass's products, then each
/// --epoch's NDVI), and the window of the national grid it accumulated.
void write_unit_partial(AssessPlan const& p, AssessResults const& res, std::string const& coverage) {
  io::ZonalPartial part;
  part.id_name = p.sites.id_name;
  part.attribute_names = p.sites.attribute_names;
  for (auto const& z : p.sites.zones) {
    io::Zone bare;
    bare.id = z.id;
    bare.attributes = z.attributes;
    part.zones.push_back(std::move(bare));
  }
  part.products = p.zonal.products;
  for (auto const& e : res.epoch_products) part.products.push_back(e);
  part.stats = p.zr.stats;
  part.coverage = coverage;
  part.crs_wkt = p.national.crs_wkt;
  part.zones_path = p.zr.source.path.string();
  std::vector<std::string> sources;
  for (auto const& f : p.layout.inputs) sources.push_back(f.string());
  part.covered.push_back(io::CoveredWindow{sources, p.national, p.unit->window});
  part.results = res.zonal;
  for (auto const& e : res.epoch_zonal) part.results.push_back(e);
  io::write_zonal_partial(p.unit->partial, part);
}

/// The legend and the overview map (sites filled by grade over NDVI after).
void write_map_pictures(AssessPlan const& p, AssessResults const& res, std::vector<io::SiteMetrics> const& metrics) {
  auto const names = p.in.scheme.category_names();
  (void)io::write_legend_png(p.picture_dir / "legend.png", names, p.in.scheme.colors());
  if (!res.overview) return;
  std::vector<std::vector<io::MapRing>> rings;
  std::vector<io::Rgba> fill;
  auto to_ring = [](Ring const& ring) {
    io::MapRing out;
    for (auto const& pt : ring) out.push_back({pt.x, pt.y});
    return out;
  };
  for (std::size_t s = 0; s < p.sites.zones.size(); ++s) {
    std::vector<io::MapRing> site_rings;
    for (auto const& part : p.sites.zones[s].parts) {
      site_rings.push_back(to_ring(part.outer));
      for (auto const& h : part.holes) site_rings.push_back(to_ring(h));
    }
    rings.push_back(std::move(site_rings));
    fill.push_back(grade_color(metrics[s].grade));
  }
  io::OverviewBackground bg;
  bg.values = res.overview->planes[kNdviAfter];
  io::write_overview_png(p.picture_dir / "overview.png", res.overview->width, res.overview->height,
                         crop_georef(p.in.grid(), *res.overview), rings, fill, bg);
}

}  // namespace

void add_assess_options(cxxopts::Options& options) {
  add_change_input_options(options);
  options.add_options()
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
       cxxopts::value<std::string>())
      ("carbon-rates", "sequestration rates low,central,high in t C/ha/yr",
       cxxopts::value<std::string>()->default_value("1,2,3"))
      ("vegetated-ndvi", "NDVI at or above which a pixel counts as vegetated (default: the rules' ndvi_vegetated)",
       cxxopts::value<std::string>())
      ("min-valid-fraction", "below this share (0 to 1) of clear data a site is flagged and not graded",
       cxxopts::value<std::string>()->default_value("0.5"))
      ("disturbance-min-ha", "newly disturbed hectares (above 0) that raise the disturbance flag",
       cxxopts::value<std::string>()->default_value("0.1"))
      ("grades", "grade table (JSON or TOML, docs/metrics.md)", cxxopts::value<std::string>())
      ("pictures-max", "pictures for at most this many sites (the first in layer order)",
       cxxopts::value<std::string>()->default_value("1000"))
      ("embed-pictures-max", "report.html embeds the pictures (one self-contained file) up to this many sites "
                             "with pictures; above it, it links the PNG files beside it (quick to open)",
       cxxopts::value<std::string>()->default_value("100"))
      ("site-pages-above", "above this many sites, the site sections go to pages of their own (pages/*.html: one "
                           "per --region-field value, else 200 sites each) and report.html keeps the tables",
       cxxopts::value<std::string>()->default_value("200"))
      ("picture-size", "longest side of each site picture in pixels (bigger sites are decimated)",
       cxxopts::value<std::string>()->default_value("256"))
      ("no-pictures", "skip the pictures (the report then has none)")
      ("no-rasters", "write no raster, only the tables, pictures, report and manifest: reads only the 512 x 512 "
                     "tiles that meet a site's picture window (the overview picture shows only those)");
}

AssessLayout assess_layout(OptionValues const& r) {
  auto const request = assess_request_from(r);
  auto const run = run_settings_from(r);
  EventLog log(run.log_format, run.quiet);
  PassRunner runner("plan", run, cog_options_from(r), log);
  static AssessMerge const no_pass;  // plans like the merge: no pass, no zonal work
  AssessPlan p;
  p.merge = &no_pass;
  plan_assess(r, request, runner, log, p);
  AssessLayout out;
  out.grid = p.national;
  out.sites_path = p.zr.source.path;
  for (auto const& z : p.sites.zones) {
    out.site_ids.push_back(z.id);
    out.site_bounds.push_back(z.parts.empty() ? std::nullopt : std::optional<Bounds>(z.bbox));
  }
  out.picture_windows.assign(p.sites.zones.size(), std::nullopt);
  for (auto const& z : p.sites.zones) out.site_windows.push_back(picture_window(p.national, z));
  for (auto const& [site, crop] : p.picture_sites) out.picture_windows[site] = crop.window;
  out.inputs = p.layout.inputs;
  std::vector<Epoch const*> all{&p.in.before_epoch, &p.in.after_epoch};
  for (auto const& [year, epoch] : p.epochs) all.push_back(&epoch);
  for (auto const* e : all) {
    if (!e->is_composite()) continue;
    std::vector<std::string> ids;
    for (auto const& s : e->scenes) {
      ids.push_back(s.id);
      if (std::find(out.inventories.begin(), out.inventories.end(), s.inventory) == out.inventories.end())
        out.inventories.push_back(s.inventory);
    }
    out.epoch_items.emplace_back(e->scene.label, std::move(ids));
  }
  out.planes_read = p.in.source->plane_count();
  auto observations = [&out](io::EpochSource const& source) {
    if (auto const* c = dynamic_cast<io::CompositeEpochSource const*>(&source)) {
      for (auto const& [w, warped] : c->footprints()) {
        out.observation_footprints.push_back(w);
        out.observation_warped.push_back(warped);
      }
      out.observation_planes = std::max(out.observation_planes, c->params().planes_per_observation + 1);  // + mask
    }
  };
  observations(*p.in.before_source);
  observations(*p.in.after_source);
  for (auto const& [year, epoch] : p.epochs) {
    auto const source = open_epoch(epoch, pixel::bands_needed(pixel::Index::ndvi), p.national);
    out.planes_read += source->plane_count();
    observations(*source);
  }
  return out;
}

int assess_main(int argc, char** argv) {
  cxxopts::Options options("reclaim assess",
                           "The rehabilitation assessment: scenes of two epochs and the site polygons -> rasters, "
                           "per-site metrics and grades, pictures, report.html and manifest.json, in one pass");
  add_assess_options(options);
  auto const parsed = parse_raster_command(options, argc, argv);
  if (!parsed) return 0;  // --help
  return run_assess_command(*parsed, std::vector<std::string>(argv, argv + argc), nullptr, nullptr);
}

int run_assess_command(OptionValues const& r, std::vector<std::string> const& command, AssessUnit const* unit,
                       AssessMerge const* merge) {
  auto const started = std::chrono::steady_clock::now();
  std::string const started_utc = utc_now();
  auto request = assess_request_from(r);
  auto const run = run_settings_from(r);
  auto const cog = cog_options_from(r);
  EventLog log(run.log_format, run.quiet);
  PassRunner runner("assess", run, cog, log);

  AssessPlan plan;
  plan.unit = unit;
  plan.merge = merge;
  plan_assess(r, request, runner, log, plan);
  // Claiming removes an earlier run's manifest.json (with --overwrite) before anything else is
  // written; this run's comes last.
  auto extra = plan.picture_files;
  extra.insert(extra.end(), plan.page_files.begin(), plan.page_files.end());
  if (merge) extra.insert(extra.end(), merge->rasters.begin(), merge->rasters.end());
  auto const claimed = runner.claim_outputs(plan.out_dir, {&plan.layout}, extra);
  // Once the run is checked: a refused run prints only its error.
  log_epoch(log, plan.in.before_epoch, *plan.in.before_source);
  log_epoch(log, plan.in.after_epoch, *plan.in.after_source);
  for (auto const& [year, epoch] : plan.epochs) log_scene_warnings(log, epoch.scene);
  if (runner.dry_run()) {
    runner.describe(plan.layout);
    return 0;
  }
  io::keep_output_digests(true);  // for manifest.json (or a unit's done record), hashed as each output is written
  // A rules file that reads `magnitude`: its standardisation comes from a first read of the tiles.
  if (!prepare_change_vector(plan.in, {}, plan.layout.plan.tiles, thread_count(run.threads), log).empty())
    plan.layout.pass = plan.in.params;
  auto const& in = plan.in;
  auto const& ap = plan.ap;
  auto const& grid = in.grid();
  auto const& sites = plan.sites;
  auto const& out_dir = plan.out_dir;
  bool const pictures = request.pictures;

  // Checksums of the inputs while the pass runs (they are read from the page cache anyway). A
  // national run's units and merge record sizes and times instead (reclaim plan, docs/national.md):
  // checksumming every scene in every unit would reread the archive.
  bool const whole = !unit && !merge;
  auto input_checksums = std::async(std::launch::async, [&plan, whole] {
    ojson list = ojson::array();
    if (!whole) return list;
    for (auto const& f : plan.in.before_epoch.files()) list.push_back(file_entry(f, "before"));
    for (auto const& f : plan.in.after_epoch.files()) list.push_back(file_entry(f, "after"));
    for (auto const& [year, epoch] : plan.epochs)
      for (auto const& f : epoch.files()) list.push_back(file_entry(f, "epoch " + epoch.scene.label));
    return list;
  });
  AssessResults res;
  if (merge) {
    if (merge->write_rasters) merge->write_rasters();
    std::size_t const n = plan.sites.zones.size();
    res.zonal.assign(merge->zonal.begin(), merge->zonal.begin() + 6);
    res.epoch_zonal.assign(merge->zonal.begin() + 6, merge->zonal.end());
    res.site_pictures.assign(n, ojson::array());
    if (pictures && !merge->site_crops.empty()) {
      std::error_code ec;
      fs::create_directories(plan.picture_dir, ec);
      if (ec) throw io_error(plan.picture_dir.string() + ": cannot create the picture folder (" + ec.message() + ")");
      for (auto const& [site, crop] : merge->site_crops)
        res.site_pictures[site] = write_site_pictures(plan.picture_dir, site, crop, grid, in);
    }
    res.overview = merge->overview;
    fill_series(plan, res);
  } else {
    res = run_assess(plan, runner);
  }
  if (unit) {
    runner.finishing("assess", "the unit's partial");
    write_unit_partial(plan, res, r["coverage"].as<std::string>());
    runner.wrote(unit->partial);
    runner.done();
    return 0;
  }
  runner.finishing("assess", "site metrics, tables, report and manifest");

  // Per-site metrics and the tables.
  io::AssessProducts ids;
  std::vector<io::SiteMetrics> metrics;
  for (std::size_t s = 0; s < sites.zones.size(); ++s)
    metrics.push_back(io::site_metrics(res.zonal, ids, s, ap, res.series[s]));
  io::ZonalTable table;
  table.id_name = sites.id_name;
  table.attribute_names = sites.attribute_names;
  table.columns = io::site_metric_columns();
  for (auto const& m : metrics) table.rows.push_back(io::site_metric_cells(m));
  for (auto const& name : {"sites.csv", "sites.gpkg"}) {
    io::write_zonal_table(out_dir / name, table, sites.zones, grid.crs_wkt,
                          [&log](std::string const& w) { log.warning(w); });
    runner.wrote(out_dir / name);
  }

  ojson legend_classes = ojson::array();
  auto const names = in.scheme.category_names();
  auto const colors = in.scheme.colors();
  for (std::size_t k = 1; k < names.size(); ++k)
    if (!names[k].empty())
      legend_classes.push_back({{"value", k}, {"name", names[k]}, {"color", hex_color(colors[k])}});
  if (pictures) write_map_pictures(plan, res, metrics);

  // summary.json: the run and its totals, per region when asked.
  ojson summary = summary_document(in, ap, plan.epochs, sites, metrics, request.region_field);
  if (merge) summary["missing_units"] = merge->missing_units;
  auto write_json = [&](fs::path const& path, ojson const& doc) {
    io::write_file_atomically(path, doc.dump(2) + "\n");
    runner.wrote(path);
  };
  write_json(out_dir / "summary.json", summary);

  // report.html
  ReportFacts facts{in, ap, plan.zr.source.path.string(), r["coverage"].as<std::string>(), summary, sites, metrics,
                    table, res.site_pictures, pictures, res.overview.has_value(), legend_classes, !plan.epochs.empty(),
                    request.region_field, res.series, plan.site_pages,
                    static_cast<std::size_t>(request.embed_pictures_max)};
  io::write_report_html(out_dir / "report.html", report_document(facts));
  for (auto const& page : plan.page_files) runner.wrote(page);
  runner.wrote(out_dir / "report.html");
  if (r.count("overwrite"))
    if (auto const n = remove_earlier_report_files(out_dir, plan.picture_files, plan.page_files) +
                       remove_earlier_rasters(plan))
      log.event("removed_earlier", {{"folder", out_dir.string()}, {"files", n}},
                out_dir.string() + ": removed " + std::to_string(n) + " rasters, pictures or pages of an earlier run");

  // manifest.json: enough to reproduce the run.
  ojson manifest;
  manifest["software"] = {{"name", "reclaim"}, {"version", RECLAIM_VERSION}};
  manifest["command"] = command;
  if (merge) manifest["national_run"] = merge->run;
  if (r.job_path()) manifest["job_file"] = r.job_path()->string();
  manifest["started"] = started_utc;
  manifest["finished"] = utc_now();
  manifest["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ojson parameters = r.to_json();
  parameters["resolved"] = resolved_parameters(in, ap, summary["years"], pictures);
  manifest["parameters"] = parameters;
  ojson inputs = input_checksums.get();
  inputs.push_back(file_entry(plan.zr.source.path, "sites"));
  if (r.job_path()) inputs.push_back(file_entry(*r.job_path(), "job"));
  manifest["inputs"] = inputs;
  std::vector<std::pair<fs::path, std::string>> out_files;
  if (merge) {
    for (auto const& v : merge->rasters) out_files.emplace_back(v, "raster");
  } else {
    for (auto const& o : plan.layout.outputs) out_files.emplace_back(o.path, "raster");
  }
  for (auto const& name : {"sites.csv", "sites.gpkg", "summary.json", "report.html"})
    out_files.emplace_back(out_dir / name, "table");
  for (auto const& page : plan.page_files) out_files.emplace_back(page, "report page");
  // This run's pictures (an earlier run's others were removed above).
  for (auto const& pth : plan.picture_files) out_files.emplace_back(pth, "picture");
  ojson outputs = ojson::array();
  for (auto const& [path, role] : out_files) outputs.push_back(output_entry(path, role));
  manifest["outputs"] = outputs;
  write_json(out_dir / kManifestName, manifest);
  runner.done();
  return 0;
}

}  // namespace reclaim::cli
