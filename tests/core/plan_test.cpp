// make_plan: tiles cover the grid exactly once, are block-aligned, and their buffers fit the
// memory budget (with a floor of two one-block slots).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/error.hpp"
#include "reclaim/grid.hpp"

namespace {

using reclaim::Grid;
using reclaim::make_plan;
using reclaim::PlanRequest;
using reclaim::TilePlan;

Grid grid_of(std::int64_t w, std::int64_t h, std::int32_t bw, std::int32_t bh) {
  Grid g;
  g.width = w;
  g.height = h;
  g.block_width = bw;
  g.block_height = bh;
  return g;
}

std::size_t bytes_per_pixel(PlanRequest const& r) {
  return sizeof(float) * static_cast<std::size_t>(r.input_planes + r.output_planes);
}

/// Every pixel of the grid in exactly one tile; ids 0..n-1 in order; tiles inside the grid,
/// non-empty, no larger than the plan's tile size, starting on block boundaries.
void expect_exact_cover(TilePlan const& plan) {
  Grid const& g = plan.grid;
  ASSERT_GT(plan.tile_width, 0);
  ASSERT_GT(plan.tile_height, 0);
  std::vector<std::uint8_t> hits(static_cast<std::size_t>(g.width * g.height), 0);
  // Blocks larger than the raster are clipped to it, so alignment is to min(block, size).
  std::int64_t const bw = std::min<std::int64_t>(g.block_width, g.width);
  std::int64_t const bh = std::min<std::int64_t>(g.block_height, g.height);
  for (std::size_t i = 0; i < plan.tiles.size(); ++i) {
    auto const& t = plan.tiles[i];
    EXPECT_EQ(t.id, static_cast<std::int64_t>(i));
    ASSERT_GT(t.width, 0);
    ASSERT_GT(t.height, 0);
    ASSERT_GE(t.x0, 0);
    ASSERT_GE(t.y0, 0);
    ASSERT_LE(t.x0 + t.width, g.width);
    ASSERT_LE(t.y0 + t.height, g.height);
    EXPECT_LE(t.width, plan.tile_width);
    EXPECT_LE(t.height, plan.tile_height);
    EXPECT_EQ(t.x0 % bw, 0) << "tile " << i;
    EXPECT_EQ(t.y0 % bh, 0) << "tile " << i;
    // Only the last column / row of tiles may be ragged.
    if (t.x0 + t.width < g.width) {
      EXPECT_EQ(t.width, plan.tile_width) << "tile " << i;
    }
    if (t.y0 + t.height < g.height) {
      EXPECT_EQ(t.height, plan.tile_height) << "tile " << i;
    }
    for (std::int64_t y = t.y0; y < t.y0 + t.height; ++y)
      for (std::int64_t x = t.x0; x < t.x0 + t.width; ++x) ++hits[static_cast<std::size_t>(y * g.width + x)];
  }
  std::size_t gaps = 0, overlaps = 0;
  for (auto h : hits) {
    gaps += h == 0;
    overlaps += h > 1;
  }
  EXPECT_EQ(gaps, 0u);
  EXPECT_EQ(overlaps, 0u);
  // Tile size is a whole number of (clipped) blocks, unless clipped by the raster itself.
  if (plan.tile_width < g.width) {
    EXPECT_EQ(plan.tile_width % bw, 0);
  }
  if (plan.tile_height < g.height) {
    EXPECT_EQ(plan.tile_height % bh, 0);
  }
}

TEST(MakePlan, RaggedEdges) {
  // 1000 x 777 with 128 x 128 blocks: 1000 = 7 * 128 + 104, 777 = 6 * 128 + 9
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  for (std::size_t budget : {std::size_t{1}, std::size_t{1} << 20, std::size_t{8} << 20, std::size_t{512} << 20}) {
    r.memory_budget = budget;
    auto const plan = make_plan(grid_of(1000, 777, 128, 128), r);
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    expect_exact_cover(plan);
  }
}

TEST(MakePlan, SmallBudgetGivesOneBlockTiles) {
  // A 1 MiB budget at 68 B/pixel and 6 slots allows 2570 pixels per tile: less than one
  // 128 x 128 block, so each tile is exactly one block -> ceil(1000/128) * ceil(777/128) = 8 * 7 tiles.
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  r.memory_budget = std::size_t{1} << 20;
  auto const plan = make_plan(grid_of(1000, 777, 128, 128), r);
  EXPECT_EQ(plan.tile_width, 128);
  EXPECT_EQ(plan.tile_height, 128);
  EXPECT_EQ(plan.tiles.size(), 56u);
  // Last column 1000 - 7 * 128 = 104 wide, last row 777 - 6 * 128 = 9 high.
  EXPECT_EQ(plan.tiles[7].width, 104);
  EXPECT_EQ(plan.tiles[7].height, 128);
  EXPECT_EQ(plan.tiles.back().width, 104);
  EXPECT_EQ(plan.tiles.back().height, 9);
  EXPECT_EQ(plan.tiles.back().x0, 896);
  EXPECT_EQ(plan.tiles.back().y0, 768);
}

TEST(MakePlan, OnePixelRaster) {
  PlanRequest r;
  auto const plan = make_plan(grid_of(1, 1, 256, 256), r);
  ASSERT_EQ(plan.tiles.size(), 1u);
  EXPECT_EQ(plan.tiles[0].x0, 0);
  EXPECT_EQ(plan.tiles[0].y0, 0);
  EXPECT_EQ(plan.tiles[0].width, 1);
  EXPECT_EQ(plan.tiles[0].height, 1);
  EXPECT_EQ(plan.tile_width, 1);
  EXPECT_EQ(plan.tile_height, 1);
  EXPECT_EQ(plan.slot_count, 1);  // never more buffer slots than tiles
  expect_exact_cover(plan);
}

TEST(MakePlan, BlockLargerThanRaster) {
  PlanRequest r;
  auto const plan = make_plan(grid_of(100, 50, 512, 512), r);
  ASSERT_EQ(plan.tiles.size(), 1u);
  EXPECT_EQ(plan.tiles[0].width, 100);
  EXPECT_EQ(plan.tiles[0].height, 50);
  expect_exact_cover(plan);
  // A strip layout: blocks as wide as the raster, one row high.
  auto const strips = make_plan(grid_of(300, 200, 300, 1), r);
  expect_exact_cover(strips);
  // Tiny budget with strips: one strip per tile.
  r.memory_budget = 1;
  auto const one_strip = make_plan(grid_of(300, 200, 300, 1), r);
  EXPECT_EQ(one_strip.tile_width, 300);
  EXPECT_EQ(one_strip.tile_height, 1);
  EXPECT_EQ(one_strip.tiles.size(), 200u);
  expect_exact_cover(one_strip);
}

TEST(MakePlan, TinyBudgetStillTwoSlotsOfOneBlock) {
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  for (std::size_t budget : {std::size_t{0}, std::size_t{1}, std::size_t{1000}}) {
    r.memory_budget = budget;
    auto const plan = make_plan(grid_of(2048, 2048, 512, 512), r);
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    EXPECT_EQ(plan.tile_width, 512);
    EXPECT_EQ(plan.tile_height, 512);
    EXPECT_GE(plan.slot_count, 2);
    EXPECT_EQ(plan.tiles.size(), 16u);
    expect_exact_cover(plan);
  }
}

TEST(MakePlan, BuffersFitTheBudgetWhenItAllows) {
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  Grid const g = grid_of(3000, 2500, 256, 256);
  std::size_t const one_block_slot = 256u * 256u * bytes_per_pixel(r);
  // From exactly two one-block slots up to more than the whole raster.
  for (std::size_t budget : {2 * one_block_slot, 3 * one_block_slot + 17, std::size_t{16} << 20,
                             std::size_t{100} << 20, std::size_t{4} << 30}) {
    r.memory_budget = budget;
    auto const plan = make_plan(g, r);
    SCOPED_TRACE(testing::Message() << "budget " << budget);
    std::size_t const slot_bytes = plan.max_tile_pixels() * bytes_per_pixel(r);
    EXPECT_GE(plan.slot_count, 2);
    EXPECT_LE(plan.slot_count, std::max(2, r.slots_wanted));
    EXPECT_LE(static_cast<std::size_t>(plan.slot_count) * slot_bytes, budget);
    EXPECT_LE(static_cast<std::int64_t>(plan.max_tile_pixels()),
              std::max<std::int64_t>(r.target_tile_pixels, 256 * 256));
    expect_exact_cover(plan);
  }
}

TEST(MakePlan, LargerBudgetNeverGivesSmallerTiles) {
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  Grid const g = grid_of(5000, 5000, 256, 256);
  std::size_t previous = 0;
  for (int shift = 16; shift <= 32; ++shift) {
    r.memory_budget = std::size_t{1} << shift;
    auto const plan = make_plan(g, r);
    EXPECT_GE(plan.max_tile_pixels(), previous) << "budget 2^" << shift;
    previous = plan.max_tile_pixels();
  }
}

TEST(MakePlan, HugeRasterStaysWithinBudget) {
  // 100 000 x 100 000 (1e10 pixels) must plan within a small budget; coverage is checked
  // arithmetically here rather than pixel by pixel.
  PlanRequest r;
  r.input_planes = 7;
  r.output_planes = 10;
  r.memory_budget = std::size_t{256} << 20;
  Grid const g = grid_of(100000, 100000, 512, 512);
  auto const plan = make_plan(g, r);
  std::size_t const slot_bytes = plan.max_tile_pixels() * bytes_per_pixel(r);
  EXPECT_LE(static_cast<std::size_t>(plan.slot_count) * slot_bytes, r.memory_budget);
  std::int64_t const nx = (g.width + plan.tile_width - 1) / plan.tile_width;
  std::int64_t const ny = (g.height + plan.tile_height - 1) / plan.tile_height;
  ASSERT_EQ(static_cast<std::int64_t>(plan.tiles.size()), nx * ny);
  std::int64_t pixels = 0;
  for (auto const& t : plan.tiles) {
    EXPECT_EQ(t.x0 % 512, 0);
    EXPECT_EQ(t.y0 % 512, 0);
    pixels += static_cast<std::int64_t>(t.pixel_count());
  }
  EXPECT_EQ(pixels, g.pixel_count());
}

TEST(MakePlan, EmptyGridThrowsUsageError) {
  PlanRequest r;
  EXPECT_THROW((void)make_plan(grid_of(0, 100, 256, 256), r), reclaim::usage_error);
  EXPECT_THROW((void)make_plan(grid_of(100, 0, 256, 256), r), reclaim::usage_error);
  EXPECT_THROW((void)make_plan(grid_of(0, 0, 256, 256), r), reclaim::usage_error);
  EXPECT_THROW((void)make_plan(grid_of(-5, 10, 256, 256), r), reclaim::usage_error);
}

}  // namespace
