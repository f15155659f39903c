#include "reclaim/pixels_read.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "reclaim/error.hpp"

namespace reclaim {

std::vector<std::vector<PixelRun>> pixels_read(TilePlan const& plan, ZonalWork const* zonal,
                                               std::vector<CropRequest> const& crops,
                                               std::vector<TileWindow> const& windows) {
  if (zonal) RECLAIM_EXPECTS(zonal->tiles.size() == plan.tiles.size(), "zonal work made for another plan");
  std::vector<std::vector<PixelRun>> runs(plan.tiles.size());
  std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> rows;  // per tile row: column intervals
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    auto const& tile = plan.tiles[t];
    rows.resize(static_cast<std::size_t>(tile.height));
    for (auto& r : rows) r.clear();
    auto add = [&](std::int64_t row, std::int64_t begin, std::int64_t end) {
      RECLAIM_EXPECTS(row >= 0 && row < tile.height && begin >= 0 && begin <= end && end <= tile.width,
                      "a pixel read lies outside its tile");
      if (begin < end) rows[static_cast<std::size_t>(row)].emplace_back(begin, end);
    };
    if (zonal)
      for (auto const& it : zonal->tiles[t].items) add(it.row, it.col_begin, it.col_end);
    for (auto const& crop : crops) {
      auto const s = crop_samples_in(crop, tile);
      if (s.empty()) continue;
      for (std::int64_t j = s.j0; j < s.j1; ++j) {
        std::int64_t const row = crop.window.y0 + j * crop.step - tile.y0;
        std::int64_t const x_first = crop.window.x0 + s.i0 * crop.step - tile.x0;
        if (crop.step == 1) {
          add(row, x_first, x_first + (s.i1 - s.i0));
        } else {
          for (std::int64_t i = s.i0; i < s.i1; ++i) {
            std::int64_t const x = x_first + (i - s.i0) * crop.step;
            add(row, x, x + 1);
          }
        }
      }
    }
    for (auto const& w : windows) {
      auto const part = intersection(tile, w);
      if (part.width == 0 || part.height == 0) continue;
      for (std::int64_t y = part.y0; y < part.y0 + part.height; ++y)
        add(y - tile.y0, part.x0 - tile.x0, part.x0 - tile.x0 + part.width);
    }
    // Each row's intervals merged, in pixel order; a run ending a row joins one starting the next.
    auto& out = runs[t];
    for (std::size_t r = 0; r < rows.size(); ++r) {
      auto& iv = rows[r];
      std::sort(iv.begin(), iv.end());
      auto const base = static_cast<std::int64_t>(r) * tile.width;
      for (auto const& [b, e] : iv) {
        auto const begin = static_cast<std::uint32_t>(base + b), end = static_cast<std::uint32_t>(base + e);
        if (!out.empty() && begin <= out.back().end)
          out.back().end = std::max(out.back().end, end);
        else
          out.push_back({begin, end});
      }
    }
  }
  return runs;
}

void validate_pixels_read(TilePlan const& plan) {
  if (plan.pixels_read.empty()) return;
  if (plan.pixels_read.size() != plan.tiles.size())
    throw logic_error("pixels read given for " + std::to_string(plan.pixels_read.size()) + " tiles of " +
                      std::to_string(plan.tiles.size()));
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    std::uint64_t at = 0;
    for (auto const& r : plan.pixels_read[t]) {
      if (r.begin < at || r.end <= r.begin || r.end > plan.tiles[t].pixel_count())
        throw logic_error("tile " + std::to_string(t) + ": pixel run [" + std::to_string(r.begin) + ", " +
                          std::to_string(r.end) + ") is not sorted, disjoint and inside the tile");
      at = r.end;
    }
  }
}

}  // namespace reclaim
