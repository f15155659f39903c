#pragma once
/** @file
 * @brief Per-site rehabilitation metrics, grade and flags from the zonal results of the
 * assess pass. Formulas, defaults and sources: docs/metrics.md (keep the two in step).
 */
#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reclaim/io/zonal.hpp"

namespace reclaim::io {

/// A grade is given when every condition holds (the first matching grade wins; none: "E").
struct GradeRule {
  std::string grade;
  double min_cover_after_pct = -1e300;
  double max_still_bare_pct = 1e300;
  double min_cover_gain_pp = -1e300;
};

/// The default grade table (docs/metrics.md).
[[nodiscard]] std::vector<GradeRule> default_grade_rules();
/// Grade rules from a JSON or TOML file (`[[grade]]` tables with the fields of GradeRule);
/// input_error naming the file and the problem.
[[nodiscard]] std::vector<GradeRule> load_grade_rules(std::filesystem::path const& path);

struct AssessParams {
  double years = 0.0;                          ///< between the epochs (NaN: unknown)
  std::array<double, 3> carbon_rates{1, 2, 3};  ///< t C / ha / yr: low, central, high
  double vegetated_ndvi = 0.4;                 ///< a pixel is vegetated at NDVI >= this
  double min_valid_fraction = 0.5;             ///< below: flag "insufficient clear data", grade n/a
  double disturbance_min_ha = 0.1;             ///< newly disturbed area that raises the flag
  std::vector<GradeRule> grades = default_grade_rules();
};

/// Indices of the assess pass's zonal products (the order of the pass's ZonalWork products).
struct AssessProducts {
  std::size_t change_class = 0;  ///< categorical change classes
  std::size_t dndvi = 1;
  std::size_t ndvi_before = 2;
  std::size_t ndvi_after = 3;
  std::size_t vegetated_before = 4;  ///< threshold classes of NDVI before
  std::size_t vegetated_after = 5;
};

struct SiteMetrics {
  double area_ha = 0, valid_fraction = 0;
  double cover_before_pct = 0, cover_after_pct = 0, cover_gain_pp = 0;
  double ndvi_before_mean = 0, ndvi_before_median = 0, ndvi_after_mean = 0, ndvi_after_median = 0;
  double ndvi_mean_change = 0, dndvi_mean = 0;
  double revegetated_ha = 0, partial_recovery_ha = 0, still_bare_ha = 0, stable_vegetation_ha = 0;
  double newly_disturbed_ha = 0, water_ha = 0, unclassified_ha = 0, no_data_ha = 0;
  double still_bare_pct = 0;  ///< of the area with a valid class
  double years = 0;
  double carbon_low_t = 0, carbon_central_t = 0, carbon_high_t = 0;
  /// The site's mean-NDVI series over every epoch (before, --epoch ..., after): epochs with a
  /// mean, Theil–Sen slope (NDVI per year) and Mann–Kendall two-sided p; NaN below 3 epochs.
  double trend_epochs = 0, trend_slope = 0, trend_p = 0;
  std::string grade;
  std::vector<std::string> flags;
};

/// A site's mean NDVI at one epoch (year, value; NaN when the site had no clear pixel).
struct EpochMean {
  double year = 0;
  double ndvi_mean = 0;
};

/// The metrics of site z; `series`: its mean NDVI per epoch (empty without a time series).
[[nodiscard]] SiteMetrics site_metrics(std::vector<ProductAccumulators> const& results, AssessProducts const& products,
                                       std::size_t z, AssessParams const& params,
                                       std::vector<EpochMean> const& series = {});

/// Column names and values of SiteMetrics in sites.csv order (after the id and attributes).
[[nodiscard]] std::vector<std::string> site_metric_columns();
[[nodiscard]] std::vector<ZonalCell> site_metric_cells(SiteMetrics const& m);

/// Run totals (summary.json "totals"): areas summed, cover as area-weighted means, grade counts.
[[nodiscard]] nlohmann::ordered_json site_totals(std::vector<SiteMetrics> const& sites);

}  // namespace reclaim::io
