#pragma once
/** @file
 * @brief The built-in demo data: a synthetic Sentinel-2-L2A-like scene pair and mine sites.
 */
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace reclaim::synth {

struct SynthOptions {
  std::filesystem::path out_dir;
  std::int32_t width = 2048;
  std::int32_t height = 2048;
  std::uint64_t seed = 42;
  /// Years of the two epochs; files are named <year>.tif.
  int before_year = 2019;
  int after_year = 2025;
  /// Upper-left corner in EPSG:32649 (UTM 49N, Shaanxi/Inner Mongolia), 10 m pixels.
  double origin_x = 600000.0;
  double origin_y = 4300000.0;
  double pixel_size = 10.0;
  std::int32_t block_size = 512;
};

struct SynthOutputs {
  std::filesystem::path before;  ///< <out>/<before_year>.tif
  std::filesystem::path after;   ///< <out>/<after_year>.tif
  std::filesystem::path sites;   ///< <out>/sites.gpkg
  std::int32_t site_count = 0;
};

/// The files write_demo_scene writes (site_count 0); usage_error for options it would refuse.
[[nodiscard]] SynthOutputs demo_scene_paths(SynthOptions const& options);

/** @brief Writes the demo scene pair and site polygons (deterministic for a seed).
 * Throws reclaim::io_error when a file cannot be written. */
SynthOutputs write_demo_scene(SynthOptions const& options);

/** @brief Options of the national demo (`reclaim synth --national`, docs/national.md): its layout
 * (scenes, zones, provinces) is fixed; the seed draws the landscapes, sites and clouds. */
struct NationalOptions {
  std::filesystem::path out_dir;
  std::uint64_t seed = 42;
  int before_year = 2019;
  int after_year = 2025;
};

struct NationalOutputs {
  /// <out>/scenes/<year>/<zone>_<tile>.tif: the before epoch's scenes, then the after epoch's.
  std::vector<std::filesystem::path> scenes;
  std::filesystem::path before_inventory;  ///< <out>/<before_year>.csv (path,datetime,sensor,cloud_cover)
  std::filesystem::path after_inventory;   ///< <out>/<after_year>.csv
  std::filesystem::path grid;              ///< <out>/grid.tif: the target grid (Albers equal-area, 10 m)
  std::filesystem::path sites;             ///< <out>/sites.gpkg (site_id, name, status, province)
  std::filesystem::path job;               ///< <out>/national.toml: the job for `reclaim plan`
  std::int32_t site_count = 0;

  /// Every file, in the order above (the job last: it is written last).
  [[nodiscard]] std::vector<std::filesystem::path> files() const;
};

/// The files write_national_demo writes (site_count 0); usage_error for options it would refuse.
[[nodiscard]] NationalOutputs national_demo_paths(NationalOptions const& options);

/** @brief Writes the national demo: Sentinel-2-L2A-like scenes of two epochs in two UTM zones,
 * their CSV inventories, the sites with a province field, a target grid and a job file
 * (deterministic for a seed). Throws reclaim::io_error when a file cannot be written; a failed
 * run leaves none of the files. */
NationalOutputs write_national_demo(NationalOptions const& options);

}  // namespace reclaim::synth
