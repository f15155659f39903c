#pragma once
/** @file
 * @brief Epoch inventories: the scenes of one epoch listed in a STAC Item / ItemCollection
 * (as saved from a STAC API search) or in a CSV file, each resolved into a SceneSpec, and the
 * date-window, cloud and platform filters (docs/inventories.md).
 */
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reclaim/io/scene.hpp"

namespace reclaim::io {

/// One acquisition of an inventory, resolved into a SceneSpec that GdalTileSource can read.
struct InventoryScene {
  std::string id;                 ///< STAC item id, or the CSV row's path
  std::string datetime;           ///< as given (ISO 8601)
  std::string date;               ///< YYYY-MM-DD (UTC): the same-day key for MGRS overlaps
  std::string platform;           ///< lower-case, e.g. "sentinel-2a", "landsat-8"; empty when unknown
  std::optional<double> cloud_cover;             ///< eo:cloud_cover (percent)
  std::optional<std::array<double, 4>> bbox;     ///< item bbox west,south,east,north (WGS84)
  std::filesystem::path inventory;               ///< the file it came from
  SceneSpec scene;                ///< band files (BandRef.file: the asset href as GDAL reads it, band 1), calibration, mask, mask rule, sensor, warnings
};

struct InventoryFilter {
  std::optional<std::string> start, end;   ///< inclusive YYYY-MM-DD
  /// Percent; scenes without eo:cloud_cover (or a CSV cloud_cover) are kept: nothing says they
  /// are cloudy, and the per-pixel mask still applies.
  std::optional<double> max_cloud;
  std::vector<std::string> platforms;      ///< empty: any; compared case-insensitively
};

/// True for the paths read as inventories: .json/.geojson (STAC) and .csv.
[[nodiscard]] bool is_inventory_path(std::filesystem::path const& path);

/** @brief Reads a STAC Item, ItemCollection/FeatureCollection, or a CSV inventory.
 *
 * STAC band files are not opened (an inventory may list thousands of items); CSV rows are
 * resolved with resolve_scene, which opens them. Throws input_error naming the file and
 * item/row (e.g. "items.json: item S2A_...: no asset for band red (common name 'red' in
 * eo:bands)"), usage_error for options that do not apply to an inventory (--bands and
 * --mask-band files for STAC items). */
[[nodiscard]] std::vector<InventoryScene> read_inventory(std::filesystem::path const& file, SensorOptions const& options);

/// Keeps scenes inside the window, under max cloud, of the given platforms; sorted by (datetime, id). `dropped` (optional) receives one reason line per scene dropped.
[[nodiscard]] std::vector<InventoryScene> filter_inventory(std::vector<InventoryScene> scenes, InventoryFilter const& filter, std::vector<std::string>* dropped = nullptr);

/// "2019-06-01/2019-09-30" -> start/end; throws input_error on a bad window (bad date, start after end).
/// Either end may be ".." or empty for an open window ("2019-06-01/..").
[[nodiscard]] InventoryFilter parse_window(std::string_view window);

/// The UTC calendar date (YYYY-MM-DD) of an ISO 8601 date or date-time ("2020-07-14T23:30:00-02:00"
/// is 2020-07-15; no zone: UTC); nullopt when it is not one.
[[nodiscard]] std::optional<std::string> utc_date(std::string_view datetime);

}  // namespace reclaim::io
