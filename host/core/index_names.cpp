#include "reclaim/index_names.hpp"

#include <array>
#include <string>

#include "reclaim/error.hpp"

namespace reclaim {
namespace {

struct IndexInfo {
  std::string_view name;
  std::string_view description;
};

constexpr std::array<IndexInfo, pixel::kOutputKindCount> kIndexInfo{{
    {"ndvi", "NDVI = (NIR - Red) / (NIR + Red)"},
    {"evi", "EVI = 2.5 (NIR - Red) / (NIR + 6 Red - 7.5 Blue + 1)"},
    {"savi", "SAVI = (1 + L) (NIR - Red) / (NIR + Red + L)"},
    {"msavi2", "MSAVI2 = (2 NIR + 1 - sqrt((2 NIR + 1)^2 - 8 (NIR - Red))) / 2"},
    {"ndwi", "NDWI = (Green - NIR) / (Green + NIR)"},
    {"mndwi", "MNDWI = (Green - SWIR1) / (Green + SWIR1)"},
    {"nbr", "NBR = (NIR - SWIR2) / (NIR + SWIR2)"},
    {"ndmi", "NDMI = (NIR - SWIR1) / (NIR + SWIR1)"},
    {"bsi", "BSI = ((SWIR1 + Red) - (NIR + Blue)) / ((SWIR1 + Red) + (NIR + Blue))"},
    {"fvc", "FVC = clamp((NDVI - NDVI_soil) / (NDVI_veg - NDVI_soil), 0, 1)"},
    {"blue", "blue surface reflectance (calibrated)"},
    {"green", "green surface reflectance (calibrated)"},
    {"red", "red surface reflectance (calibrated)"},
}};

constexpr std::array<std::string_view, pixel::kBandCount> kBandNames{"blue", "green", "red", "nir", "swir1", "swir2"};

}  // namespace

std::string_view index_name(pixel::Index index) noexcept { return kIndexInfo[static_cast<std::size_t>(index)].name; }

std::string_view index_description(pixel::Index index) noexcept {
  return kIndexInfo[static_cast<std::size_t>(index)].description;
}

std::optional<pixel::Index> parse_index(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kIndexInfo.size(); ++i)
    if (kIndexInfo[i].name == name) return static_cast<pixel::Index>(i);
  return std::nullopt;
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
      throw usage_error("unknown index '" + std::string(item) +
                        "' (known: ndvi, evi, savi, msavi2, ndwi, mndwi, nbr, ndmi, bsi, fvc, all; blue, green, red for "
                        "reflectance)");
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
