// io::site_metrics from hand-made accumulators: every metric is recomputed here from the
// definitions of docs/metrics.md (hectares of each change class, cover before/after, grade
// table, carbon = revegetated_ha x years x rate, flags, Theil-Sen / Mann-Kendall trend).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

#include "reclaim/error.hpp"
#include "reclaim/io/assess.hpp"

namespace {

using reclaim::ProductAccumulators;
using reclaim::ZonalProduct;
using reclaim::io::AssessParams;
using reclaim::io::AssessProducts;
using reclaim::io::SiteMetrics;

constexpr double kPixelM2 = 100.0;  // 10 m pixels: 0.01 ha each

/// Class weights (in pixels) of one zone.
struct ZoneClasses {
  std::vector<std::pair<int, double>> change;  // change class -> pixels
  double veg_before = 0, bare_before = 0;       // threshold classes 2 / 1
  double veg_after = 0, bare_after = 0;
  std::vector<double> ndvi_before, ndvi_after, dndvi;  // whole-pixel values (NaN = nodata)
};

ZonalProduct product(std::string name, bool categorical, bool histograms) {
  ZonalProduct p;
  p.name = std::move(name);
  p.categorical = categorical;
  p.histograms = histograms;
  return p;
}

/// The six products of the assess pass (AssessProducts order), filled as the backends would.
std::vector<ProductAccumulators> make_results(std::vector<ZoneClasses> const& zones) {
  std::size_t const n = zones.size();
  std::vector<ProductAccumulators> r{
      ProductAccumulators::make(product("change_class", true, false), n, kPixelM2),
      ProductAccumulators::make(product("dndvi", false, true), n),
      ProductAccumulators::make(product("ndvi_before", false, true), n),
      ProductAccumulators::make(product("ndvi_after", false, true), n),
      ProductAccumulators::make(product("vegetated_before", true, false), n, kPixelM2),
      ProductAccumulators::make(product("vegetated_after", true, false), n, kPixelM2)};
  for (std::size_t z = 0; z < n; ++z) {
    auto const& c = zones[z];
    double pixels = 0;
    for (auto const& [cls, w] : c.change) {
      r[0].classes[z].update(cls, w);
      pixels += w;
    }
    r[0].areas[z].area_m2.add(pixels * kPixelM2);
    auto values = [&](ProductAccumulators& acc, std::vector<double> const& v) {
      for (double x : v) {
        acc.values[z].update(x, 1.0);
        acc.areas[z].area_m2.add(kPixelM2);
        if (std::isfinite(x)) acc.histograms[z].update(x, 1.0);
      }
    };
    values(r[1], c.dndvi);
    values(r[2], c.ndvi_before);
    values(r[3], c.ndvi_after);
    r[4].classes[z].update(2, c.veg_before);
    r[4].classes[z].update(1, c.bare_before);
    r[5].classes[z].update(2, c.veg_after);
    r[5].classes[z].update(1, c.bare_after);
  }
  return r;
}

bool has_flag(SiteMetrics const& m, std::string const& f) {
  for (auto const& x : m.flags)
    if (x == f) return true;
  return false;
}

// Zone 0, 100 pixels = 1 ha: class 2 revegetated 30 px, 1 still bare 10, 4 stable vegetation 40,
// 5 newly disturbed 15, 0 no data 5. Vegetated 20 / 75 before, 70 / 25 after.
ZoneClasses zone_b() {
  ZoneClasses z;
  z.change = {{2, 30}, {1, 10}, {4, 40}, {5, 15}, {0, 5}};
  z.veg_before = 20, z.bare_before = 75, z.veg_after = 70, z.bare_after = 25;
  z.ndvi_before = {0.1, 0.2, 0.3, std::nan("")};
  z.ndvi_after = {0.5, 0.6, 0.4, 0.7};
  z.dndvi = {0.4, 0.4, 0.1};
  return z;
}

TEST(SiteMetrics, HandWorkedSite) {
  auto const results = make_results({zone_b()});
  AssessParams params;
  params.years = 6;  // carbon rates 1, 2, 3 (defaults)
  auto const m = reclaim::io::site_metrics(results, AssessProducts{}, 0, params);
  EXPECT_DOUBLE_EQ(m.area_ha, 1.0);
  EXPECT_DOUBLE_EQ(m.revegetated_ha, 0.30);
  EXPECT_DOUBLE_EQ(m.still_bare_ha, 0.10);
  EXPECT_DOUBLE_EQ(m.stable_vegetation_ha, 0.40);
  EXPECT_DOUBLE_EQ(m.newly_disturbed_ha, 0.15);
  EXPECT_DOUBLE_EQ(m.no_data_ha, 0.05);
  EXPECT_EQ(m.partial_recovery_ha, 0.0);
  EXPECT_EQ(m.water_ha, 0.0);
  EXPECT_EQ(m.unclassified_ha, 0.0);
  // valid_fraction = (area - no data) / area; still_bare_pct = 100 still bare / (area - no data).
  EXPECT_DOUBLE_EQ(m.valid_fraction, 0.95);
  EXPECT_DOUBLE_EQ(m.still_bare_pct, 100.0 * 0.10 / 0.95);
  // Cover: 100 x vegetated / (vegetated + not vegetated).
  EXPECT_DOUBLE_EQ(m.cover_before_pct, 100.0 * 20 / 95);
  EXPECT_DOUBLE_EQ(m.cover_after_pct, 100.0 * 70 / 95);
  EXPECT_NEAR(m.cover_gain_pp, 100.0 * 50 / 95, 1e-12);
  // NDVI means over valid pixels; medians from the [-1, 1] histogram within 2/1024.
  EXPECT_NEAR(m.ndvi_before_mean, 0.2, 1e-15);
  EXPECT_NEAR(m.ndvi_after_mean, 0.55, 1e-15);
  EXPECT_NEAR(m.ndvi_mean_change, 0.35, 1e-15);
  EXPECT_NEAR(m.dndvi_mean, 0.3, 1e-15);
  EXPECT_NEAR(m.ndvi_before_median, 0.2, 2.0 / 1024);
  EXPECT_NEAR(m.ndvi_after_median, 0.5, 2.0 / 1024);  // inverted CDF of {0.4, 0.5, 0.6, 0.7}
  // Carbon = revegetated_ha x years x rate.
  EXPECT_DOUBLE_EQ(m.years, 6.0);
  EXPECT_DOUBLE_EQ(m.carbon_low_t, 0.30 * 6 * 1);
  EXPECT_DOUBLE_EQ(m.carbon_central_t, 0.30 * 6 * 2);
  EXPECT_DOUBLE_EQ(m.carbon_high_t, 0.30 * 6 * 3);
  // Grade: cover after 73.7 % >= 60 but still bare 10.5 % > 10 -> not A; >= 40 and <= 25 -> B.
  EXPECT_EQ(m.grade, "B");
  // 0.15 ha newly disturbed >= 0.1 ha.
  ASSERT_EQ(m.flags.size(), 1u);
  EXPECT_TRUE(has_flag(m, "new disturbance inside the site"));
  // No series: no trend.
  EXPECT_EQ(m.trend_epochs, 0.0);
  EXPECT_TRUE(std::isnan(m.trend_slope));
  EXPECT_TRUE(std::isnan(m.trend_p));
}

TEST(SiteMetrics, GradeTable) {
  // Each zone: 100 pixels of which `bare` still bare (class 1), the rest stable vegetation (4);
  // cover before / after set through the threshold classes.
  struct Case {
    double bare, cover_before, cover_after;
    char const* grade;
  };
  std::vector<Case> const cases{
      {10, 50, 60, "A"},    // exactly on A's limits: >= 60, <= 10
      {11, 50, 60, "B"},    // still bare 11 % > 10
      {25, 10, 40, "B"},    // B's limits
      {26, 10, 40, "C"},    // gain 30 pp >= 10
      {50, 20, 30, "C"},    // gain exactly 10 pp
      {50, 20, 29, "D"},    // 9 pp
      {50, 20, 21, "D"},    // exactly 1 pp
      {50, 20, 20.5, "E"},  // 0.5 pp
      {50, 30, 20, "E"},    // loss
  };
  std::vector<ZoneClasses> zones;
  for (auto const& c : cases) {
    ZoneClasses z;
    z.change = {{1, c.bare}, {4, 100 - c.bare}};
    z.veg_before = c.cover_before, z.bare_before = 100 - c.cover_before;
    z.veg_after = c.cover_after, z.bare_after = 100 - c.cover_after;
    zones.push_back(z);
  }
  auto const results = make_results(zones);
  AssessParams params;
  params.years = 5;
  for (std::size_t z = 0; z < cases.size(); ++z) {
    auto const m = reclaim::io::site_metrics(results, AssessProducts{}, z, params);
    EXPECT_EQ(m.grade, cases[z].grade) << "case " << z << ": cover after " << m.cover_after_pct << ", still bare "
                                       << m.still_bare_pct << ", gain " << m.cover_gain_pp;
    EXPECT_TRUE(m.flags.empty());
  }
  // A custom table replaces the default; no matching rule gives E.
  params.grades = {{"PASS", 50.0, 20.0, 0.0}};
  EXPECT_EQ(reclaim::io::site_metrics(results, AssessProducts{}, 0, params).grade, "PASS");  // 60 %, 10 %, +10
  EXPECT_EQ(reclaim::io::site_metrics(results, AssessProducts{}, 2, params).grade, "E");     // 40 % < 50
}

TEST(SiteMetrics, FlagsForLittleClearDataAndOutsideTheScenes) {
  ZoneClasses cloudy;
  cloudy.change = {{0, 60}, {2, 40}};  // valid 40 %
  cloudy.veg_after = 40;
  cloudy.bare_before = 40;
  ZoneClasses outside;  // no pixels at all
  ZoneClasses edge;     // exactly at the limit: valid_fraction 0.5 is enough
  edge.change = {{0, 50}, {5, 50}};
  edge.veg_before = 50;
  edge.bare_after = 50;
  auto const results = make_results({cloudy, outside, edge});
  AssessParams params;
  params.years = 4;
  auto const c = reclaim::io::site_metrics(results, AssessProducts{}, 0, params);
  EXPECT_DOUBLE_EQ(c.valid_fraction, 0.4);
  EXPECT_EQ(c.grade, "n/a");
  EXPECT_TRUE(has_flag(c, "insufficient clear data"));
  EXPECT_FALSE(has_flag(c, "outside the scenes"));
  EXPECT_DOUBLE_EQ(c.carbon_central_t, 0.40 * 4 * 2);  // carbon is reported even when not graded

  auto const o = reclaim::io::site_metrics(results, AssessProducts{}, 1, params);
  EXPECT_EQ(o.area_ha, 0.0);
  EXPECT_TRUE(std::isnan(o.valid_fraction));
  EXPECT_TRUE(std::isnan(o.cover_before_pct));
  EXPECT_TRUE(std::isnan(o.ndvi_after_mean));
  EXPECT_EQ(o.grade, "n/a");
  ASSERT_EQ(o.flags.size(), 1u);
  EXPECT_EQ(o.flags[0], "outside the scenes");

  auto const e = reclaim::io::site_metrics(results, AssessProducts{}, 2, params);
  EXPECT_DOUBLE_EQ(e.valid_fraction, 0.5);
  EXPECT_NE(e.grade, "n/a");
  EXPECT_EQ(e.grade, "E");  // cover 100 % -> 0 %
  EXPECT_TRUE(has_flag(e, "new disturbance inside the site"));  // 0.5 ha
  // A higher disturbance limit and a stricter clear-data limit change the flags.
  params.disturbance_min_ha = 0.6;
  params.min_valid_fraction = 0.6;
  auto const e2 = reclaim::io::site_metrics(results, AssessProducts{}, 2, params);
  EXPECT_FALSE(has_flag(e2, "new disturbance inside the site"));
  EXPECT_TRUE(has_flag(e2, "insufficient clear data"));
  EXPECT_EQ(e2.grade, "n/a");
}

TEST(SiteMetrics, TrendOfTheMeanNdviSeries) {
  auto const results = make_results({zone_b()});
  AssessParams params;
  params.years = 6;
  // Years 2019, 2021, 2023, 2025 with means 0.2, 0.3, 0.35, 0.5 (and one epoch without a mean).
  std::vector<reclaim::io::EpochMean> const series{
      {2019, 0.2}, {2021, 0.3}, {2022, std::nan("")}, {2023, 0.35}, {2025, 0.5}};
  auto const m = reclaim::io::site_metrics(results, AssessProducts{}, 0, params, series);
  EXPECT_EQ(m.trend_epochs, 4.0);
  // Pair slopes: 0.05, 0.0375, 0.05, 0.025, 0.05, 0.075 -> median of six = 0.05 (Sen 1968).
  EXPECT_NEAR(m.trend_slope, 0.05, 1e-12);
  // Mann-Kendall: S = 6 (every pair increases), Var = n(n-1)(2n+5)/18 = 4*3*13/18,
  // Z = (S - 1) / sqrt(Var), two-sided p = erfc(Z / sqrt 2).
  double const z = 5.0 / std::sqrt(4.0 * 3 * 13 / 18);
  EXPECT_NEAR(m.trend_p, std::erfc(z / std::sqrt(2.0)), 1e-9);
  // Fewer than three epochs with a value: no trend.
  auto const short_m = reclaim::io::site_metrics(results, AssessProducts{}, 0, params,
                                                 {{2019, 0.2}, {2025, std::nan("")}, {2021, 0.3}});
  EXPECT_EQ(short_m.trend_epochs, 2.0);
  EXPECT_TRUE(std::isnan(short_m.trend_slope));
}

TEST(SiteMetrics, TotalsSumAreasAndWeightCover) {
  auto const results = make_results({zone_b(), zone_b()});
  AssessParams params;
  params.years = 6;
  auto const a = reclaim::io::site_metrics(results, AssessProducts{}, 0, params);
  std::vector<SiteMetrics> sites{a, a};
  sites[1].area_ha = 2.0;  // a bigger copy: areas double, cover stays weighted by valid area
  sites[1].no_data_ha = 0.1;
  sites[1].revegetated_ha = 0.6;
  sites[1].cover_after_pct = 50.0;
  auto const t = reclaim::io::site_totals(sites);
  EXPECT_EQ(t["sites"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(t["area_ha"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(t["valid_area_ha"].get<double>(), 0.95 + 1.9);
  EXPECT_DOUBLE_EQ(t["revegetated_ha"].get<double>(), 0.9);
  EXPECT_NEAR(t["cover_after_pct"].get<double>(), (100.0 * 70 / 95 * 0.95 + 50.0 * 1.9) / 2.85, 1e-12);
  EXPECT_EQ(t["grades"]["B"].get<int>(), 2);
  EXPECT_EQ(t["flags"]["new disturbance inside the site"].get<int>(), 2);
  EXPECT_DOUBLE_EQ(t["carbon_estimate_tC"]["central"].get<double>(), 2 * 0.30 * 6 * 2);
}

TEST(SiteMetrics, GradeRulesFromFiles) {
  auto const dir = std::filesystem::temp_directory_path() / ("reclaim_grades_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "g.toml") << "[[grade]]\nname = \"PASS\"\nmin_cover_after_pct = 50\nmax_still_bare_pct = 20\n"
                                     "[[grade]]\nname = \"WATCH\"\nmin_cover_gain_pp = 0\n";
    std::ofstream(dir / "bad.json") << R"({"grade": [{"name": "X", "min_cover": 3}]})";
  }
  auto const rules = reclaim::io::load_grade_rules(dir / "g.toml");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].grade, "PASS");
  EXPECT_EQ(rules[0].min_cover_after_pct, 50.0);
  EXPECT_EQ(rules[0].max_still_bare_pct, 20.0);
  EXPECT_LT(rules[0].min_cover_gain_pp, -1e299);  // unset: no condition
  EXPECT_EQ(rules[1].min_cover_gain_pp, 0.0);
  EXPECT_THROW(reclaim::io::load_grade_rules(dir / "bad.json"), reclaim::input_error);
  EXPECT_THROW(reclaim::io::load_grade_rules(dir / "missing.json"), reclaim::input_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
