#pragma once
/** @file
 * @brief Per-zone statistics of a value raster, accumulated as tiles stream past.
 *
 * ZonalSink is a TileSink: the writer thread hands it each finished tile, it computes every
 * intersecting zone's coverage of the tile (spans + weighted edge pixels, cover()) and feeds
 * the covered pixels to that zone's accumulators (pixel/zonal.hpp). Sums are exact
 * fixed-point, so the order in which tiles arrive does not change them.
 */
#include <filesystem>
#include <string>
#include <vector>

#include "reclaim/coverage.hpp"
#include "reclaim/io/zones.hpp"
#include "reclaim/pixel/zonal.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim::io {

/// Histogram bins for medians and percentiles: accuracy = (range) / kZonalBins.
inline constexpr int kZonalBins = 1024;

struct ZonalOptions {
  CoverageMode mode = CoverageMode::exact;
  bool geographic = false;         ///< ellipsoidal cell areas per row (else from the geotransform)
  bool histograms = false;         ///< median / percentiles requested
  double histogram_lo = -1.0;      ///< value range of the histogram bins
  double histogram_hi = 1.0;
};

struct ZoneStats {
  pixel::ValueAccumulator values;
  pixel::ExactSum area_m2;        ///< coverage x cell area, valid and nodata pixels
  pixel::ExactSum valid_area_m2;  ///< coverage x cell area, valid pixels
  std::vector<pixel::HistogramAccumulator<kZonalBins>> histogram;  ///< one, or none
};

class ZonalSink final : public TileSink {
 public:
  ZonalSink(Grid const& grid, std::vector<Zone> const& zones, ZonalOptions options);
  void write(TileWindow const& window, float const* planes, int plane_count) override;
  [[nodiscard]] std::vector<ZoneStats> const& stats() const noexcept { return m_stats; }

 private:
  Grid m_grid;
  std::vector<Zone> const& m_zones;
  ZonalOptions m_options;
  std::vector<ZoneStats> m_stats;
};

/// Statistic names accepted by --stats: count, nodata_count, area_ha, valid_area_ha, sum,
/// mean, stddev, min, max, median, coverage, pNN (percentile NN).
[[nodiscard]] bool is_zonal_stat(std::string const& name) noexcept;
[[nodiscard]] double zonal_stat(ZoneStats const& s, std::string const& name);

/** @brief Writes one row per zone: the id, the zone's attributes, then `<product>_<stat>`
 * for every stat. Temporary name, then rename. Throws io_error naming the file. */
void write_zonal_csv(std::filesystem::path const& path, std::vector<Zone> const& zones,
                     std::vector<std::string> const& attribute_names, std::string const& id_name,
                     std::string const& product, std::vector<std::string> const& stats,
                     std::vector<ZoneStats> const& results);

}  // namespace reclaim::io
