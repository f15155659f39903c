// pixels_read: the runs of each tile's pixels that zone items, picture crops and site windows
// read. Checked against a per-pixel mask built here from the definitions (a zone item covers
// its row's columns [col_begin, col_end); a crop reads the grid pixels window.x0 + i * step,
// window.y0 + j * step; a window reads all its pixels), on ragged tiles.
#include "reclaim/pixels_read.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "reclaim/error.hpp"

namespace {

using namespace reclaim;

constexpr std::int32_t kW = 203, kH = 157;

TilePlan plan_of(std::int32_t tw, std::int32_t th) {
  TilePlan plan;
  plan.grid.width = kW;
  plan.grid.height = kH;
  plan.tile_width = tw;
  plan.tile_height = th;
  plan.slot_count = 2;
  for (std::int64_t y = 0; y < kH; y += th)
    for (std::int64_t x = 0; x < kW; x += tw)
      plan.tiles.push_back({static_cast<std::int64_t>(plan.tiles.size()), x, y,
                            static_cast<std::int32_t>(std::min<std::int64_t>(tw, kW - x)),
                            static_cast<std::int32_t>(std::min<std::int64_t>(th, kH - y))});
  return plan;
}

/// The runs of a per-pixel mask of one tile, written out pixel by pixel.
std::vector<PixelRun> runs_of(std::vector<bool> const& mask) {
  std::vector<PixelRun> runs;
  for (std::uint32_t i = 0; i < mask.size(); ++i) {
    if (!mask[i]) continue;
    if (!runs.empty() && runs.back().end == i)
      ++runs.back().end;
    else
      runs.push_back({i, i + 1});
  }
  return runs;
}

TEST(PixelsRead, AreTheZoneItemsCropSamplesAndWindowsOfEachTile) {
  auto const plan = plan_of(64, 48);
  // Zone items in tile 0 and tile 5 (overlapping intervals on one row, one reaching the row's end).
  ZonalWork zonal;
  zonal.tiles.resize(plan.tiles.size());
  zonal.tiles[0].items = {{0, 3, 10, 20, 1.0}, {1, 3, 15, 30, 0.5}, {0, 4, 60, 64, 1.0}, {1, 5, 0, 2, 1.0}};
  zonal.tiles[5].items = {{2, 47, 1, 3, 1.0}};
  std::vector<CropRequest> const crops = {
      {{0, 50, 30, 40, 25}, 1},                          // step 1: a block, across four tiles
      {{0, 0, 0, kW, kH}, 7},                            // the overview: every 7th pixel
      {{0, 100, 100, 90, 57}, 4},                        // a big site's picture, to the grid's edge
  };
  std::vector<TileWindow> const windows = {{0, 190, 140, 13, 17}};  // the last tile's corner

  std::vector<std::vector<bool>> mask(plan.tiles.size());
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    auto const& tile = plan.tiles[t];
    mask[t].assign(tile.pixel_count(), false);
    auto mark = [&](std::int64_t gx, std::int64_t gy) {  // a grid pixel, if in this tile
      if (gx >= tile.x0 && gx < tile.x0 + tile.width && gy >= tile.y0 && gy < tile.y0 + tile.height)
        mask[t][static_cast<std::size_t>((gy - tile.y0) * tile.width + (gx - tile.x0))] = true;
    };
    for (auto const& it : zonal.tiles[t].items)
      for (std::int32_t c = it.col_begin; c < it.col_end; ++c) mark(tile.x0 + c, tile.y0 + it.row);
    for (auto const& crop : crops)
      for (std::int64_t y = crop.window.y0; y < crop.window.y0 + crop.window.height; y += crop.step)
        for (std::int64_t x = crop.window.x0; x < crop.window.x0 + crop.window.width; x += crop.step) mark(x, y);
    for (auto const& w : windows)
      for (std::int64_t y = w.y0; y < w.y0 + w.height; ++y)
        for (std::int64_t x = w.x0; x < w.x0 + w.width; ++x) mark(x, y);
  }

  auto const runs = pixels_read(plan, &zonal, crops, windows);
  ASSERT_EQ(runs.size(), plan.tiles.size());
  std::size_t single = 0, merged_across_rows = 0;
  for (std::size_t t = 0; t < plan.tiles.size(); ++t) {
    EXPECT_EQ(runs[t], runs_of(mask[t])) << "tile " << t;
    for (auto const& r : runs[t]) {
      single += r.end - r.begin == 1;
      merged_across_rows += r.begin / plan.tiles[t].width != (r.end - 1) / plan.tiles[t].width;
    }
  }
  EXPECT_GT(single, 100u);  // non-vacuous: the overview's lone samples, and runs that span rows
  EXPECT_GT(merged_across_rows, 0u);

  TilePlan with = plan;
  with.pixels_read = runs;
  EXPECT_NO_THROW(validate_pixels_read(with));
}

TEST(PixelsRead, NothingReadGivesEmptyRunsAndMalformedRunsAreRefused) {
  auto plan = plan_of(64, 48);
  auto const none = pixels_read(plan, nullptr, {}, {});
  ASSERT_EQ(none.size(), plan.tiles.size());
  for (auto const& r : none) EXPECT_TRUE(r.empty());

  plan.pixels_read = none;
  EXPECT_NO_THROW(validate_pixels_read(plan));
  plan.pixels_read.pop_back();  // not one list per tile
  EXPECT_THROW(validate_pixels_read(plan), logic_error);
  plan.pixels_read = none;
  plan.pixels_read[0] = {{10, 20}, {15, 30}};  // overlapping
  EXPECT_THROW(validate_pixels_read(plan), logic_error);
  plan.pixels_read[0] = {{10, 10}};  // empty run
  EXPECT_THROW(validate_pixels_read(plan), logic_error);
  plan.pixels_read[0] = {{0, 64 * 48 + 1}};  // past the tile
  EXPECT_THROW(validate_pixels_read(plan), logic_error);
}

}  // namespace
