#pragma once
// The two-epoch inputs shared by `reclaim change` and `reclaim assess`: options, scenes
// resolved and checked, their tile sources on one grid, and the change pass parameters.
#include <cxxopts.hpp>

#include <filesystem>
#include <map>
#include <utility>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cli/option_values.hpp"
#include "cli/common_options.hpp"
#include "cli/epoch_inputs.hpp"
#include "cli/logging.hpp"
#include "reclaim/change_vector.hpp"
#include "reclaim/io/cog_writer.hpp"
#include "reclaim/io/gdal_source.hpp"
#include "reclaim/io/rules.hpp"
#include "reclaim/io/scene.hpp"
#include "reclaim/zonal_work.hpp"
#include "reclaim/pixel/change_pass.hpp"
#include "reclaim/tile_source.hpp"

namespace reclaim::cli {

/// Adds --before, --after, --before-sensor, --after-sensor, --target-grid, --rules and the epoch
/// options (--composite, --window, ...).
void add_change_input_options(cxxopts::Options& options);

struct ChangeInputs {
  LabeledPath before, after;
  io::SensorOptions before_sensor, after_sensor;
  Epoch before_epoch, after_epoch;  ///< each with its scene (a composite's summary)
  io::ChangeScheme scheme;
  std::unique_ptr<io::EpochSource> before_source, after_source;
  std::unique_ptr<CompositeTileSource> source;
  /// The pass: rules, calibration and plane layout; outputs still empty (callers add them).
  pixel::ChangeParams params;

  [[nodiscard]] Grid const& grid() const { return before_source->grid(); }
  /// The files both epochs read.
  [[nodiscard]] std::vector<std::filesystem::path> files() const;
};

/** @brief Resolves both epochs (bad input fails here, before any output exists).
 * `outputs`: the per-epoch outputs the caller will request (their bands must exist);
 * `default_labels`: labels for unlabeled inputs (e.g. the file stem when it is a year). */
[[nodiscard]] ChangeInputs prepare_change_inputs(OptionValues const& r, std::vector<pixel::Index> const& outputs,
                                                 bool year_labels);

/** @brief The change pass's output planes, one layout for `change` and `assess`: 0 the change
 * class, 1 dNDVI, then for each epoch (before, after) the `per_epoch` outputs in order. Adds them
 * to in.params; the spectral indices get a COG `<out>/<label>_<index>.tif`, the reflectance
 * outputs (blue, green, red: for pictures) none. */
struct ChangePlanes {
  std::vector<io::OutputRaster> outputs;
  std::vector<std::string> names;  ///< plane k's name
  std::map<std::pair<int, pixel::Index>, int> plane_of;  ///< (epoch 0/1, output) -> plane
  std::vector<pixel::Index> epoch_output;                ///< plane k >= 2: the output it holds
  [[nodiscard]] int plane(int epoch, pixel::Index index) const { return plane_of.at({epoch, index}); }
};
[[nodiscard]] ChangePlanes change_planes(ChangeInputs& in, std::vector<pixel::Index> const& per_epoch,
                                         std::filesystem::path const& out_dir);

/// The zonal products of a change pass: class areas, dNDVI and every index plane of each epoch
/// (value statistics with the request's histogram range).
[[nodiscard]] std::vector<ZonalProduct> change_zonal_products(ChangeInputs const& in, ChangePlanes const& planes,
                                                              struct ZoneRequest const& request);

/// The change-class COG (colour table, category names, rules as metadata), the dNDVI COG and
/// the change-magnitude COG.
[[nodiscard]] io::OutputRaster change_class_output(std::filesystem::path path, ChangeInputs const& in);
[[nodiscard]] io::OutputRaster dndvi_output(std::filesystem::path path, ChangeInputs const& in);
[[nodiscard]] io::OutputRaster magnitude_output(std::filesystem::path path, ChangeInputs const& in);
[[nodiscard]] io::OutputRaster direction_output(std::filesystem::path path, ChangeInputs const& in);

/// Adds --magnitude and --threshold (docs/change.md, "Change magnitude").
void add_change_vector_options(cxxopts::Options& options);

/// What --magnitude and --threshold ask for.
struct ChangeVectorRequest {
  bool write = false;                     ///< change_magnitude.tif (--magnitude, implied by --threshold)
  std::optional<ThresholdMethod> method;  ///< --threshold otsu|ki
  std::optional<double> value;            ///< --threshold VALUE
  std::optional<ThresholdMethod> dndvi_method;  ///< --dndvi-threshold otsu|ki
  bool normalise = false;                 ///< --normalise pif, or its default
  std::string normalise_reason;           ///< why normalise is on by default ("" when asked for or off)
  [[nodiscard]] bool gated() const noexcept { return method.has_value() || value.has_value(); }
};

/** @brief Reads --magnitude and --threshold (refused beside --rules: a rules file reads
 * `magnitude` with thresholds of its own). With --threshold, in.scheme becomes the gated scheme
 * (its threshold is set by prepare_change_vector). Sets in.params.write_magnitude. */
[[nodiscard]] ChangeVectorRequest change_vector_request(OptionValues const& r, ChangeInputs& in);

/** @brief When the pass reads the magnitude (the gated scheme, a rules file that reads it, or
 * --magnitude): reads the tiles twice before the pass, for the standardisation and the magnitude
 * histogram, chooses the threshold (gated), and sets in.params.vector and in.params.rules.
 * Logs what it found; returns the metadata items that record it (empty when it did nothing).
 * Throws input_error when the scenes leave no band or no pixel to standardise. */
std::vector<std::pair<std::string, std::string>> prepare_change_vector(ChangeInputs& in,
                                                                       ChangeVectorRequest const& request,
                                                                       std::span<TileWindow const> tiles, int threads,
                                                                       EventLog& log);

}  // namespace reclaim::cli
