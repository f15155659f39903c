#pragma once
/** @file
 * @brief Partial zonal results: the raw accumulators of one run (`reclaim zonal ... --partial
 * OUT.bin`), merged exactly by `reclaim merge` into the same numbers one run over all the data
 * would give. This is how national-scale jobs shard (one Slurm array task per scene or region,
 * the same zones everywhere).
 *
 * File format, version 3 (little-endian):
 *   "RZPT" | u32 version = 3 | u64 header bytes | header (JSON) | 64 bytes: SHA-256 of the header
 *   (lower-case hex) | for each product, for each zone: u64 length + serialised accumulator
 *   (zonal_io.hpp: value, area, then histogram and/or class when the product has them). Each
 *   accumulator carries its own checksum, the header its SHA-256, and the header's content id
 *   covers the accumulators as a whole.
 * Header: zone ids and attributes, products, statistics, coverage mode, CRS, the zones path
 * (absolute for a local file), "covered" (the pixel windows accumulated, CoveredWindow) and
 * "content_id". Older files are refused by version: 1 (no covered windows, no header checksum),
 * 2 (value accumulators with M2 in double, zonal_io.hpp version 1).
 */
#include <filesystem>
#include <string>
#include <vector>

#include "reclaim/grid.hpp"
#include "reclaim/io/zonal.hpp"

namespace reclaim::io {

/** @brief What one pass accumulated: a pixel window of a raster grid. A shard is a raster of its
 * own here (a scene, or a cut of one made with gdal_translate -srcwin: no option reads part of
 * a raster), and a pass accumulates the whole of its grid; a merged partial carries the windows
 * of every shard in it. */
struct CoveredWindow {
  std::vector<std::string> sources;  ///< the rasters read, paths as given
  Grid grid;                         ///< size, geotransform, CRS (the block size is not recorded)
  TileWindow window;                 ///< the pixels accumulated, on grid
};

/// The whole of `grid`, read from `sources`.
[[nodiscard]] CoveredWindow whole_grid(Grid const& grid, std::vector<std::string> sources);

/** @brief True when a and b cover common ground, so that merging them would count pixels twice:
 * the same CRS, and map boxes that overlap by more than half a pixel both ways (on one pixel
 * lattice: exactly when the windows share a pixel). North-up grids; windows in different CRSs
 * are not compared. */
[[nodiscard]] bool covers_common_ground(CoveredWindow const& a, CoveredWindow const& b);

struct ZonalPartial {
  std::string id_name = "fid";
  std::vector<std::string> attribute_names;
  /// The zones without geometry (id and attributes), in layer order.
  std::vector<Zone> zones;
  std::vector<ZonalProduct> products;
  std::vector<std::string> stats;
  std::string coverage;  ///< "exact", "center" or "all-touched"
  std::string crs_wkt;
  std::string zones_path;              ///< the vector source the zones came from
  std::vector<CoveredWindow> covered;  ///< what was accumulated (several windows after a merge)
  std::vector<ProductAccumulators> results;
};

/// SHA-256 (hex) of the covered windows and the accumulators: equal ids, the same results twice.
[[nodiscard]] std::string content_id(ZonalPartial const& partial);

/// Writes a partial file (temporary name, then rename); io_error naming the file on failure.
void write_zonal_partial(std::filesystem::path const& path, ZonalPartial const& partial);

/// Reads a partial file; input_error naming the file when it is missing, truncated, corrupt (a
/// checksum or the content id does not match) or of another format version.
[[nodiscard]] ZonalPartial read_zonal_partial(std::filesystem::path const& path);

/** @brief Merges partials of the same zones, products, statistics and coverage mode (input_error
 * naming the first mismatch otherwise). Refuses, naming both files, a partial given twice (the
 * same content id, under any name) and partials whose covered windows share ground
 * (covers_common_ground: a whole run and one of its shards). Exact: any order and grouping give
 * the same sums. */
[[nodiscard]] ZonalPartial merge_zonal_partials(std::vector<ZonalPartial> const& parts,
                                                std::vector<std::string> const& names);

}  // namespace reclaim::io
