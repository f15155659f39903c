#pragma once
/** @file
 * @brief A zone (mine site) as the engine sees it: id, attributes and polygonal parts in the
 * grid's CRS. Readers (io/zones.hpp) fill it from OGR; nothing here knows GDAL.
 */
#include <string>
#include <utility>
#include <vector>

#include "reclaim/coverage.hpp"
#include "reclaim/grid.hpp"

namespace reclaim {

struct Zone {
  /// The id field's value as text, else the OGR feature id (FID).
  std::string id;
  /// Every other field, as text, in layer order (NULL fields as "").
  std::vector<std::pair<std::string, std::string>> attributes;
  /// Polygonal parts in the target CRS; empty for a NULL/empty geometry.
  std::vector<Polygon> parts;
  /// xmin, ymin, xmax, ymax of the parts in the target CRS (zeros when there are none).
  Bounds bbox{};
  /// True when the geometry was invalid and was repaired with MakeValid.
  bool repaired = false;
};

}  // namespace reclaim
