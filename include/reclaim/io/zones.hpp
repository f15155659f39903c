#pragma once
/** @file
 * @brief Mine-site zones read from any OGR vector source (GeoPackage, Shapefile, GeoJSON,
 * FlatGeobuf, ...), reprojected to the raster's CRS and handed over as reclaim::Polygon parts
 * (include/reclaim/coverage.hpp), so the coverage code never sees GDAL.
 *
 * Every feature becomes one Zone, in layer order, whatever its geometry: a NULL or empty
 * geometry, or one that cannot be reprojected, gives a Zone with no parts (reported later with
 * count 0, never silently dropped). Invalid geometries are repaired with GEOS MakeValid (through
 * OGR) and a warning naming the feature, or rejected under strict.
 */
#include <array>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "reclaim/zone.hpp"

namespace reclaim::io {

/// One zone: a feature of the layer, its geometry in the target CRS (reclaim/zone.hpp).
using Zone = reclaim::Zone;

/// Where to read zones from (the CLI's --zones FILE [--layer L] [--id-field F] [--strict]).
struct ZoneSource {
  std::filesystem::path path;
  /// Layer name; the first layer when unset.
  std::optional<std::string> layer;
  /// Field holding the zone id; the FID when unset.
  std::optional<std::string> id_field;
  /// Invalid geometries (and zones that cannot be reprojected) are errors instead of warnings.
  bool strict = false;
};

/** @brief Reads every feature of the layer as a Zone, in layer order, reprojected to target_crs_wkt.
 *
 * Throws reclaim::input_error naming the file (and layer, field or feature) when the file is
 * missing or not a vector source, the layer or id field is unknown, the layer has no CRS while
 * the target has one (or the reverse), a geometry is not polygonal, or, under strict, a geometry
 * is invalid or cannot be reprojected. An empty target_crs_wkt with a CRS-less layer keeps the
 * coordinates as they are. warn receives one line per repaired, empty or unprojectable zone and
 * per duplicate id.
 */
std::vector<Zone> read_zones(ZoneSource const& src, std::string const& target_crs_wkt,
                             std::function<void(std::string const&)> const& warn);

/// The layer's field names except the id field, in layer order (the Zone::attributes keys).
std::vector<std::string> zone_attribute_names(ZoneSource const& src);

}  // namespace reclaim::io
