// Per-site rehabilitation metrics (formulas: docs/metrics.md).
#include "reclaim/io/assess.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "io/document.hpp"
#include "reclaim/io/number_text.hpp"

#include "reclaim/error.hpp"
#include "reclaim/pixel/change.hpp"
#include "reclaim/pixel/trend.hpp"

namespace reclaim::io {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kVegetated = 2, kNotVegetated = 1;  // threshold classes (ZonalProduct::threshold)

double ratio_pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : kNaN; }

}  // namespace

std::vector<GradeRule> default_grade_rules() {
  return {{"A", 60.0, 10.0, -1e300}, {"B", 40.0, 25.0, -1e300}, {"C", -1e300, 1e300, 10.0}, {"D", -1e300, 1e300, 1.0}};
}

std::vector<GradeRule> load_grade_rules(std::filesystem::path const& path) {
  nlohmann::json const doc = read_document(path, "grades file");
  std::string const file = "grades file '" + path.string() + "': ";
  if (!doc.is_object() || !doc.contains("grade") || !doc["grade"].is_array() || doc["grade"].empty())
    throw input_error(file + "expected a non-empty 'grade' list");
  std::vector<GradeRule> rules;
  for (std::size_t i = 0; i < doc["grade"].size(); ++i) {
    auto const& g = doc["grade"][i];
    std::string const where = "grade[" + std::to_string(i) + "]";
    if (!g.is_object()) throw input_error(file + where + ": expected a table with name and thresholds");
    // Percentages of a site's area lie in [0, 100], a gain in percentage points in [-100, 100]:
    // a bound outside can never hold (or always holds), which is a typo, not a grade.
    auto bound = [&](std::string const& key, nlohmann::json const& value, double lo, double hi) {
      if (!value.is_number()) throw input_error(file + where + "." + key + ": expected a number, got " + value.dump());
      double const v = value.get<double>();
      if (!(v >= lo && v <= hi))
        throw input_error(file + where + "." + key + " = " + shortest_text(v) + ": expected a value from " +
                          std::to_string(static_cast<int>(lo)) + " to " + std::to_string(static_cast<int>(hi)));
      return v;
    };
    GradeRule r;
    for (auto const& [key, value] : g.items()) {
      if (key == "name") {
        if (!value.is_string()) throw input_error(file + where + ".name: expected text, got " + value.dump());
        r.grade = value.get<std::string>();
      } else if (key == "min_cover_after_pct") {
        r.min_cover_after_pct = bound(key, value, 0, 100);
      } else if (key == "max_still_bare_pct") {
        r.max_still_bare_pct = bound(key, value, 0, 100);
      } else if (key == "min_cover_gain_pp") {
        r.min_cover_gain_pp = bound(key, value, -100, 100);
      } else {
        throw input_error(file + where + ": unknown key '" + key + "'");
      }
    }
    if (r.grade.empty()) throw input_error(file + where + ": a grade without a name");
    // Grades are tried in order: one whose every bound is at least as strict as an earlier
    // grade's is never reached (a site meeting it met the earlier one first).
    for (std::size_t k = 0; k < rules.size(); ++k) {
      auto const& e = rules[k];
      std::string const earlier = "grade[" + std::to_string(k) + "] (" + e.grade + ")";
      if (e.grade == r.grade) throw input_error(file + where + ": the name '" + r.grade + "' is taken by " + earlier);
      if (e.min_cover_after_pct <= r.min_cover_after_pct && e.max_still_bare_pct >= r.max_still_bare_pct &&
          e.min_cover_gain_pp <= r.min_cover_gain_pp)
        throw input_error(file + where + " (" + r.grade + "): never assigned, its range lies inside " + earlier +
                          "'s, which is tried first (order grades from strictest to loosest)");
    }
    rules.push_back(r);
  }
  return rules;
}

SiteMetrics site_metrics(std::vector<ProductAccumulators> const& results, AssessProducts const& p, std::size_t z,
                         AssessParams const& params, std::vector<EpochMean> const& series) {
  SiteMetrics m;
  auto const& cls = results[p.change_class];
  auto ha = [&](int c) { return cls.class_ha(z, c); };
  m.area_ha = cls.areas[z].area_m2.value() * 1e-4;
  m.no_data_ha = ha(pixel::kClassNodata);
  m.still_bare_ha = ha(pixel::kClassStableBare);
  m.revegetated_ha = ha(pixel::kClassRevegetated);
  m.partial_recovery_ha = ha(pixel::kClassPartialRecovery);
  m.stable_vegetation_ha = ha(pixel::kClassStableVegetation);
  m.newly_disturbed_ha = ha(pixel::kClassVegetationLoss);
  m.water_ha = ha(pixel::kClassWater);
  m.unclassified_ha = ha(pixel::kClassUnclassified);
  // The two areas are summed separately: a site without a clear pixel can come out a few
  // ulps negative (-8e-14 seen), which is no area at all.
  double const valid_ha = std::max(0.0, m.area_ha - m.no_data_ha);
  m.valid_fraction = m.area_ha > 0 ? std::min(1.0, valid_ha / m.area_ha) : kNaN;
  m.still_bare_pct = ratio_pct(m.still_bare_ha, valid_ha);

  auto cover = [&](std::size_t product) {
    auto const& v = results[product];
    double const veg = v.class_ha(z, kVegetated), not_veg = v.class_ha(z, kNotVegetated);
    return ratio_pct(veg, veg + not_veg);
  };
  m.cover_before_pct = cover(p.vegetated_before);
  m.cover_after_pct = cover(p.vegetated_after);
  m.cover_gain_pp = m.cover_after_pct - m.cover_before_pct;
  m.ndvi_before_mean = value_stat(results[p.ndvi_before], z, "mean");
  m.ndvi_before_median = value_stat(results[p.ndvi_before], z, "median");
  m.ndvi_after_mean = value_stat(results[p.ndvi_after], z, "mean");
  m.ndvi_after_median = value_stat(results[p.ndvi_after], z, "median");
  m.ndvi_mean_change = m.ndvi_after_mean - m.ndvi_before_mean;
  m.dndvi_mean = value_stat(results[p.dndvi], z, "mean");

  m.years = params.years;
  m.carbon_low_t = m.revegetated_ha * params.years * params.carbon_rates[0];
  m.carbon_central_t = m.revegetated_ha * params.years * params.carbon_rates[1];
  m.carbon_high_t = m.revegetated_ha * params.years * params.carbon_rates[2];

  // Trend of the site's mean NDVI over the epochs: the same Theil–Sen and Mann–Kendall code
  // as the per-pixel trend pass (pixel/trend.hpp).
  m.trend_epochs = 0;
  m.trend_slope = m.trend_p = kNaN;
  std::vector<double> years, values;
  for (auto const& e : series)
    if (std::isfinite(e.ndvi_mean)) {
      years.push_back(e.year);
      values.push_back(e.ndvi_mean);
    }
  m.trend_epochs = static_cast<double>(years.size());
  if (years.size() >= 3) {
    pixel::SpanSeries const s{years.data(), values.data(), static_cast<int>(years.size())};
    auto const pairs = pixel::summarize_pairs(s);
    m.trend_slope = pixel::theil_sen_slope(s, pairs);
    m.trend_p = pixel::mann_kendall(pairs.s, pairs.n_valid, pairs.tie_sum).p;
  }

  if (!(m.area_ha > 0)) m.flags.push_back("outside the scenes");
  bool const enough = m.valid_fraction >= params.min_valid_fraction;
  if (m.area_ha > 0 && !enough) m.flags.push_back("insufficient clear data");
  if (m.newly_disturbed_ha >= params.disturbance_min_ha) m.flags.push_back("new disturbance inside the site");
  m.grade = "n/a";
  if (enough) {
    m.grade = "E";
    for (auto const& g : params.grades) {
      if (m.cover_after_pct >= g.min_cover_after_pct && m.still_bare_pct <= g.max_still_bare_pct &&
          m.cover_gain_pp >= g.min_cover_gain_pp) {
        m.grade = g.grade;
        break;
      }
    }
  }
  return m;
}

std::vector<std::string> site_metric_columns() {
  return {"area_ha",          "valid_fraction",      "cover_before_pct",   "cover_after_pct",      "cover_gain_pp",
          "ndvi_before_mean", "ndvi_before_median",  "ndvi_after_mean",    "ndvi_after_median",    "ndvi_mean_change",
          "dndvi_mean",       "revegetated_ha",      "partial_recovery_ha", "still_bare_ha",       "stable_vegetation_ha",
          "newly_disturbed_ha", "water_ha",          "unclassified_ha",    "no_data_ha",           "still_bare_pct",
          "years",            "carbon_low_tC",       "carbon_central_tC",  "carbon_high_tC",       "trend_epochs",
          "trend_ndvi_slope_per_yr", "trend_p",      "grade",              "flags"};
}

std::vector<ZonalCell> site_metric_cells(SiteMetrics const& m) {
  std::string flags;
  for (auto const& f : m.flags) flags += (flags.empty() ? "" : "; ") + f;
  return {m.area_ha,           m.valid_fraction,      m.cover_before_pct,   m.cover_after_pct,    m.cover_gain_pp,
          m.ndvi_before_mean,  m.ndvi_before_median,  m.ndvi_after_mean,    m.ndvi_after_median,  m.ndvi_mean_change,
          m.dndvi_mean,        m.revegetated_ha,      m.partial_recovery_ha, m.still_bare_ha,     m.stable_vegetation_ha,
          m.newly_disturbed_ha, m.water_ha,           m.unclassified_ha,    m.no_data_ha,         m.still_bare_pct,
          m.years,             m.carbon_low_t,        m.carbon_central_t,   m.carbon_high_t,      m.trend_epochs,
          m.trend_slope,       m.trend_p,             m.grade,              flags};
}

nlohmann::ordered_json site_totals(std::vector<SiteMetrics> const& sites) {
  double area = 0, valid = 0, reveg = 0, partial = 0, bare = 0, stable = 0, disturbed = 0, water = 0, nodata = 0;
  double veg_before = 0, veg_after = 0, carbon[3] = {0, 0, 0};
  std::map<std::string, int> grades, flags;
  for (auto const& s : sites) {
    area += s.area_ha;
    valid += s.area_ha - s.no_data_ha;
    reveg += s.revegetated_ha;
    partial += s.partial_recovery_ha;
    bare += s.still_bare_ha;
    stable += s.stable_vegetation_ha;
    disturbed += s.newly_disturbed_ha;
    water += s.water_ha;
    nodata += s.no_data_ha;
    if (std::isfinite(s.cover_before_pct) && std::isfinite(s.cover_after_pct)) {
      veg_before += s.cover_before_pct / 100.0 * (s.area_ha - s.no_data_ha);
      veg_after += s.cover_after_pct / 100.0 * (s.area_ha - s.no_data_ha);
    }
    if (std::isfinite(s.carbon_central_t)) {
      carbon[0] += s.carbon_low_t;
      carbon[1] += s.carbon_central_t;
      carbon[2] += s.carbon_high_t;
    }
    ++grades[s.grade];
    for (auto const& f : s.flags) ++flags[f];
  }
  nlohmann::ordered_json t;
  t["sites"] = sites.size();
  t["area_ha"] = area;
  t["valid_area_ha"] = valid;
  t["revegetated_ha"] = reveg;
  t["partial_recovery_ha"] = partial;
  t["still_bare_ha"] = bare;
  t["stable_vegetation_ha"] = stable;
  t["newly_disturbed_ha"] = disturbed;
  t["water_ha"] = water;
  t["no_data_ha"] = nodata;
  t["cover_before_pct"] = valid > 0 ? 100.0 * veg_before / valid : 0.0;
  t["cover_after_pct"] = valid > 0 ? 100.0 * veg_after / valid : 0.0;
  t["carbon_estimate_tC"] = {{"low", carbon[0]}, {"central", carbon[1]}, {"high", carbon[2]}};
  t["grades"] = grades;
  t["flags"] = flags;
  return t;
}

}  // namespace reclaim::io
