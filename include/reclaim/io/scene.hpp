#pragma once
/** @file
 * @brief Which file and band holds each spectral band of one epoch, and how its DNs become
 * reflectance: the sensor band maps (Sentinel-2 L2A, Landsat 8/9 C2 L2, generic).
 */
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reclaim/pixel/fused.hpp"
#include "reclaim/resample.hpp"

namespace reclaim::io {

enum class Sensor { sentinel2_l2a, landsat_c2l2, generic };

[[nodiscard]] std::optional<Sensor> parse_sensor(std::string_view name) noexcept;
[[nodiscard]] std::string_view sensor_name(Sensor sensor) noexcept;

/// One band of one file (band numbers start at 1, as in GDAL).
struct BandRef {
  std::filesystem::path file;
  int band = 1;
};

/** @brief The band-map options of the CLI, before any file is opened. Unset optionals take
 * the sensor's defaults (docs/sensors.md). */
struct SensorOptions {
  Sensor sensor = Sensor::sentinel2_l2a;
  /// --bands role=N (band N of the input file) or role=PATH (band 1 of that file).
  std::map<pixel::Band, std::string> band_specs;
  /// --mask-band N|PATH, or "none" to disable masking.
  std::optional<std::string> mask_band;
  std::optional<std::vector<std::uint32_t>> mask_values;
  std::optional<std::uint32_t> mask_bits;
  std::optional<double> scale, offset, dn_offset;
  std::optional<float> nodata, saturation;
  /// Sentinel-2 BOA_ADD_OFFSET (0 before processing baseline 04.00, -1000 from it).
  double boa_offset = 0.0;
  Resampling resampling = Resampling::bilinear;
};

/// One epoch, resolved: a file/band for every band found, calibration and mask rule.
struct SceneSpec {
  std::string label;
  std::filesystem::path input;
  std::array<std::optional<BandRef>, pixel::kBandCount> bands;
  std::optional<BandRef> mask;
  std::array<pixel::BandCalibration, pixel::kBandCount> calibration;
  pixel::MaskRule mask_rule;
  Resampling resampling = Resampling::bilinear;
};

/** @brief Finds the bands of one epoch: `input` is a multiband file, a folder holding a
 * product's band files (recognised by name), or empty when --bands gives every file.
 * Throws reclaim::input_error naming the input when a band cannot be found or opened. */
[[nodiscard]] SceneSpec resolve_scene(std::string label, std::filesystem::path const& input,
                                      SensorOptions const& options);

/** @brief Throws input_error unless the scene has every band in `needed` (Band bit set),
 * naming the index that needs the missing band. */
void require_bands(SceneSpec const& scene, std::vector<pixel::Index> const& indices);

/// Every file a scene reads (band files, the mask), once each.
[[nodiscard]] std::vector<std::filesystem::path> scene_files(SceneSpec const& scene);

}  // namespace reclaim::io
