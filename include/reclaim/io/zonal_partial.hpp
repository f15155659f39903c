#pragma once
/** @file
 * @brief Partial zonal results: the raw accumulators of one run (`reclaim zonal ... --partial
 * OUT.bin`), merged exactly by `reclaim merge` into the same numbers one run over all the data
 * would give. This is how national-scale jobs shard (one Slurm array task per scene or region,
 * the same zones everywhere).
 *
 * File format, version 1 (little-endian):
 *   "RZPT" | u32 version = 1 | u64 header bytes | header (JSON: zone ids and attributes, products,
 *   statistics, coverage mode, CRS, sources) | for each product, for each zone: u64 length +
 *   serialised accumulator (zonal_io.hpp: value, area, then histogram and/or class when the
 *   product has them). Each accumulator carries its own checksum.
 */
#include <filesystem>
#include <string>
#include <vector>

#include "reclaim/io/zonal.hpp"

namespace reclaim::io {

struct ZonalPartial {
  std::string id_name = "fid";
  std::vector<std::string> attribute_names;
  /// The zones without geometry (id and attributes), in layer order.
  std::vector<Zone> zones;
  std::vector<ZonalProduct> products;
  std::vector<std::string> stats;
  std::string coverage;  ///< "exact", "center" or "all-touched"
  std::string crs_wkt;
  std::string zones_path;            ///< the vector source the zones came from
  std::vector<std::string> sources;  ///< the rasters accumulated (several after a merge)
  std::vector<ProductAccumulators> results;
};

/// Writes a partial file (temporary name, then rename); io_error naming the file on failure.
void write_zonal_partial(std::filesystem::path const& path, ZonalPartial const& partial);

/// Reads a partial file; input_error naming the file when it is missing, truncated or corrupt.
[[nodiscard]] ZonalPartial read_zonal_partial(std::filesystem::path const& path);

/** @brief Merges partials of the same zones, products, statistics and coverage mode (input_error
 * naming the first mismatch otherwise). Exact: any order and grouping give the same sums. */
[[nodiscard]] ZonalPartial merge_zonal_partials(std::vector<ZonalPartial> const& parts,
                                                std::vector<std::string> const& names);

}  // namespace reclaim::io
