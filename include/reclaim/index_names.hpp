#pragma once
/** @file
 * @brief Names of indices and bands as users type them (lower case), from the index table
 * (reclaim/pixel/index_table.hpp).
 */
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reclaim/pixel/fused.hpp"

namespace reclaim {

[[nodiscard]] std::string_view index_name(pixel::Index index) noexcept;
/// One-line description for band metadata ("NDVI (NIR - Red)/(NIR + Red)").
[[nodiscard]] std::string_view index_description(pixel::Index index) noexcept;
/// Value range of an index (the default histogram range of its zonal statistics).
[[nodiscard]] std::pair<double, double> index_value_range(pixel::Index index) noexcept;
[[nodiscard]] std::optional<pixel::Index> parse_index(std::string_view name) noexcept;
/// "ndvi,evi" -> {ndvi, evi}; "all" -> every index. Throws usage_error on an unknown name.
[[nodiscard]] std::vector<pixel::Index> parse_index_list(std::string_view list);

/// "ndvi, evi, ..., fvc, all; blue, green, red for reflectance": every name parse_index_list takes.
[[nodiscard]] std::string known_index_names();
/// "ndvi, evi, ..., fvc, or all": the spectral indices, for an option's one-line help.
[[nodiscard]] std::string index_name_list();
/// A --help section listing every index with its formula, one per line (and "all" where a
/// command takes a list).
[[nodiscard]] std::string index_help(bool list_all = true);

[[nodiscard]] std::string_view band_name(pixel::Band band) noexcept;
[[nodiscard]] std::optional<pixel::Band> parse_band(std::string_view name) noexcept;

}  // namespace reclaim
