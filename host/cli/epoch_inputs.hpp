#pragma once
// An epoch as every command accepts it: one scene (a multiband file or product folder), or an
// inventory (STAC Item/ItemCollection JSON, CSV) of scenes composited per pixel
// (docs/composites.md). The options that say how: --composite, --window, --max-cloud, --platform.
#include <cxxopts.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/logging.hpp"
#include "cli/option_values.hpp"
#include "reclaim/io/composite_source.hpp"
#include "reclaim/io/epoch_source.hpp"
#include "reclaim/io/inventory.hpp"
#include "reclaim/io/scene.hpp"

namespace reclaim::cli {

/// Adds --composite, --window, --max-cloud and --platform.
void add_epoch_options(cxxopts::Options& options);

struct Epoch {
  /// One scene; for a composite, its summary: label, the inventory as input, the bands every
  /// scene has, the first scene's sensor, masks and calibration as text, `composite` set.
  io::SceneSpec scene;
  std::vector<io::InventoryScene> scenes;  ///< the composite's scenes (empty: one scene)
  io::CompositeOptions composite;
  std::vector<std::string> dropped;  ///< one reason line per scene the filters left out
  [[nodiscard]] bool is_composite() const noexcept { return !scenes.empty(); }
  /// Every file the epoch reads.
  [[nodiscard]] std::vector<std::filesystem::path> files() const;
};

/** @brief Resolves one epoch: an inventory is read, filtered (--window, --max-cloud,
 * --platform) and checked to leave at least one scene; anything else goes to resolve_scene.
 * `percentiles`: NDVI percentiles the composite also makes (reclaim composite). Throws
 * input_error naming the inventory when no scene is left, with why each was dropped. */
[[nodiscard]] Epoch resolve_epoch(std::string label, std::filesystem::path const& path,
                                  io::SensorOptions const& sensor, OptionValues const& r,
                                  std::vector<double> percentiles = {});

/// Refuses --composite/--window/--max-cloud/--platform when no epoch is an inventory.
void check_epoch_options_used(OptionValues const& r, std::vector<Epoch> const& epochs);

/** @brief The tiles of an epoch: its GdalTileSource, or the composite of its scenes on
 * `target` (default: the first scene's grid extended to all of them; docs/composites.md). */
[[nodiscard]] std::unique_ptr<io::EpochSource> open_epoch(Epoch const& epoch, std::uint32_t needed_bands,
                                                          std::optional<Grid> const& target = {});

/// Logs what the epoch's scene(s) assumed (warnings) and, for a composite, what it holds and
/// which scenes it left out; called once the run's outputs are claimed.
void log_epoch(EventLog& log, Epoch const& epoch, io::EpochSource const& source);

}  // namespace reclaim::cli
