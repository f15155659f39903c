#pragma once
/** @file
 * @brief Which file and band holds each spectral band of one epoch, and how its DNs become
 * reflectance: the sensor presets (Sentinel-2 L2A and L1C, Landsat 8/9 C2 L2 and L1, generic).
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

enum class Sensor { sentinel2_l2a, sentinel2_l1c, landsat_c2l2, landsat_c2l1, generic };

[[nodiscard]] std::optional<Sensor> parse_sensor(std::string_view name) noexcept;
[[nodiscard]] std::string_view sensor_name(Sensor sensor) noexcept;

/// One band of one file (band numbers start at 1, as in GDAL).
struct BandRef {
  std::filesystem::path file;
  int band = 1;
};

/** @brief The band-map options of the CLI, before any file is opened. Unset optionals take
 * the sensor's defaults (docs/sensors.md). */
/// Per-band calibration from the band map (`--bands red=B4.tif:scale=2e-5:offset=-0.1`).
struct BandOverride {
  std::optional<double> scale, offset, dn_offset;
};

struct SensorOptions {
  Sensor sensor = Sensor::sentinel2_l2a;
  /// False when --sensor was not given: the preset above is a guess, checked against the input
  /// (a mismatch is refused) and announced in a warning.
  bool sensor_given = false;
  /// --bands role=N (band N of the input file) or role=PATH (band 1 of that file).
  std::map<pixel::Band, std::string> band_specs;
  /// The `:scale=`/`:offset=`/`:dn-offset=` suffixes of --bands items; they win over --scale etc.
  std::map<pixel::Band, BandOverride> band_calibration;
  /// --mask-band N|PATH, or "none" to disable masking.
  std::optional<std::string> mask_band;
  std::optional<std::vector<std::uint32_t>> mask_values;
  std::optional<std::uint32_t> mask_bits;
  std::optional<double> scale, offset, dn_offset;
  std::optional<float> nodata, saturation;
  /// Sentinel-2 BOA_ADD_OFFSET (L2A) or RADIO_ADD_OFFSET (L1C): 0 before processing baseline
  /// 04.00, -1000 from it. Unset: read from the product's MTD_MSIL2A.xml / MTD_MSIL1C.xml when a
  /// folder input holds one, else the preset's (L2A 0, L1C -1000) with a warning.
  std::optional<double> boa_offset;
  /// Landsat Collection 2 Level-1 metadata (--mtl): *_MTL.txt or *_MTL.json. Unset: the one
  /// beside the input (in the folder, or beside the multiband file).
  std::optional<std::filesystem::path> mtl;
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
  Sensor sensor = Sensor::sentinel2_l2a;
  /// The quality mask as applied, for metadata and logs: "none", or e.g.
  /// "SCL classes 3,8,9,10 (band 7 of scene.tif)".
  std::string mask_text = "none";
  /// What reclaim assumed rather than was told or read (one line each; the command logs them).
  std::vector<std::string> warnings;
  /// A composited epoch (cli/epoch_inputs): how it was made, for logs and metadata; empty for
  /// one scene.
  std::string composite;
  /// Said by calibration_text instead of the calibration above when set (a composite's planes
  /// are reflectance already; this says how each scene was calibrated).
  std::string calibration_note;
};

/// A sensor preset's calibration of every reflective band before product metadata and options:
/// Sentinel-2 1e-4 with the baseline offset unknown (L2A 0, L1C -1000), Landsat C2 L2 2.75e-5
/// and -0.2, Landsat C2 L1 1 (its MTL gives the rest), generic identity without nodata.
[[nodiscard]] pixel::BandCalibration preset_calibration(Sensor sensor) noexcept;

/// Applies the calibration options of one band (--scale, --offset, --dn-offset, the --bands
/// suffixes, --nodata, --saturation), which win over presets and metadata.
void apply_calibration_options(pixel::BandCalibration& calibration, pixel::Band band, SensorOptions const& options);

/** @brief A quality mask: the preset's quality band and the values that mark a pixel unusable. */
struct QualityMask {
  std::string band;  ///< "SCL", "QA_PIXEL"; empty where the preset reads none (L1C, generic)
  std::vector<std::uint32_t> classes;
  std::uint32_t bits = 0;

  [[nodiscard]] bool empty() const noexcept { return classes.empty() && bits == 0; }
  [[nodiscard]] pixel::MaskRule rule() const noexcept;
  /// "classes 3,8,9,10", "bits 0x1F", "classes 1 and bits 0x8"; empty when it masks nothing.
  [[nodiscard]] std::string text() const;
};

/// The preset's quality mask of `sensor`, with --mask-values / --mask-bits applied.
[[nodiscard]] QualityMask quality_mask(Sensor sensor, SensorOptions const& options);

/// How DNs became reflectance: "(DN + -1000) x 0.0001 + 0", or per band where bands differ
/// ("blue (DN + 0) x 2e-05 + -0.1; red ..."); only the bands the scene has.
[[nodiscard]] std::string calibration_text(SceneSpec const& scene);

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
