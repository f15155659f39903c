#pragma once
/** @file
 * @brief Names of indices and bands as users type them (lower case).
 */
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reclaim/pixel/fused.hpp"

namespace reclaim {

[[nodiscard]] std::string_view index_name(pixel::Index index) noexcept;
/// One-line description for band metadata ("NDVI (NIR - Red)/(NIR + Red)").
[[nodiscard]] std::string_view index_description(pixel::Index index) noexcept;
[[nodiscard]] std::optional<pixel::Index> parse_index(std::string_view name) noexcept;
/// "ndvi,evi" -> {ndvi, evi}; "all" -> every index. Throws usage_error on an unknown name.
[[nodiscard]] std::vector<pixel::Index> parse_index_list(std::string_view list);

[[nodiscard]] std::string_view band_name(pixel::Band band) noexcept;
[[nodiscard]] std::optional<pixel::Band> parse_band(std::string_view name) noexcept;

}  // namespace reclaim
