#include "reclaim/index_names.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {
namespace {

constexpr std::array<std::string_view, pixel::kBandCount> kBandNames{"blue", "green", "red", "nir", "swir1", "swir2"};

/// "a, b, c, " of the table's names of one kind, in table order.
std::string names_of_kind(pixel::IndexKind kind) {
  std::string out;
  for (auto const& spec : pixel::kIndexTable)
    if (spec.kind == kind) out += std::string(spec.name) + ", ";
  return out;
}

}  // namespace

std::string_view index_name(pixel::Index index) noexcept { return pixel::index_spec(index).name; }

std::string_view index_description(pixel::Index index) noexcept { return pixel::index_spec(index).formula; }

std::pair<double, double> index_value_range(pixel::Index index) noexcept {
  auto const& spec = pixel::index_spec(index);
  return {spec.lo, spec.hi};
}

std::optional<pixel::Index> parse_index(std::string_view name) noexcept {
  for (auto const& spec : pixel::kIndexTable)
    if (spec.name == name) return spec.id;
  return std::nullopt;
}

std::string index_name_list() { return names_of_kind(pixel::IndexKind::index) + "or all"; }

std::string known_index_names() {
  std::string out = names_of_kind(pixel::IndexKind::index) + "all";
  auto const reflectance = names_of_kind(pixel::IndexKind::reflectance);
  if (!reflectance.empty()) out += "; " + reflectance.substr(0, reflectance.size() - 2) + " for reflectance";
  return out;
}

std::string index_help(bool list_all) {
  std::size_t width = 3;  // "all"
  for (auto const& spec : pixel::kIndexTable) width = std::max(width, spec.name.size());
  auto line = [width](std::string_view name, std::string_view text) {
    return "  " + std::string(name) + std::string(width + 2 - name.size(), ' ') + std::string(text) + "\n";
  };
  std::string out = "Indices (--index):\n";
  for (auto const& spec : pixel::kIndexTable)
    if (spec.kind == pixel::IndexKind::index) out += line(spec.name, spec.formula);
  if (list_all) out += line("all", "every index above");
  for (auto const& spec : pixel::kIndexTable)
    if (spec.kind == pixel::IndexKind::reflectance) out += line(spec.name, spec.formula);
  return out;
}

std::vector<pixel::Index> parse_index_list(std::string_view list) {
  std::vector<pixel::Index> out;
  auto add = [&out](pixel::Index index) {
    for (auto existing : out)
      if (existing == index) return;
    out.push_back(index);
  };
  std::size_t start = 0;
  while (start <= list.size()) {
    auto const comma = list.find(',', start);
    auto item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item == "all") {
      for (int i = 0; i < pixel::kIndexCount; ++i) add(static_cast<pixel::Index>(i));
    } else if (auto const index = parse_index(item)) {
      add(*index);
    } else {
      throw usage_error("unknown index '" + std::string(item) + "' (known: " + known_index_names() + ")");
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (out.size() > static_cast<std::size_t>(pixel::kMaxOutputs)) throw usage_error("too many indices requested");
  return out;
}

std::string_view band_name(pixel::Band band) noexcept { return kBandNames[static_cast<std::size_t>(band)]; }

std::optional<pixel::Band> parse_band(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kBandNames.size(); ++i)
    if (kBandNames[i] == name) return static_cast<pixel::Band>(i);
  return std::nullopt;
}

}  // namespace reclaim
