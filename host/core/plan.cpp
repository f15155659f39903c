#include <algorithm>
#include <string>

#include "reclaim/error.hpp"
#include "reclaim/grid.hpp"

namespace reclaim {

TilePlan make_plan(Grid const& grid, PlanRequest const& request) {
  if (grid.width <= 0 || grid.height <= 0)
    throw usage_error("empty raster grid (" + std::to_string(grid.width) + " x " + std::to_string(grid.height) + ")");
  RECLAIM_EXPECTS(request.input_planes > 0 && request.output_planes > 0, "a plan needs input and output planes");

  // Blocks larger than the raster (a 1x1 file, a strip format) are clipped to it.
  std::int64_t const block_w = std::clamp<std::int64_t>(grid.block_width, 1, grid.width);
  std::int64_t const block_h = std::clamp<std::int64_t>(grid.block_height, 1, grid.height);
  std::int64_t const blocks_x = (grid.width + block_w - 1) / block_w;
  std::int64_t const blocks_y = (grid.height + block_h - 1) / block_h;

  std::size_t const bytes_per_pixel =
      sizeof(float) * static_cast<std::size_t>(request.input_planes + request.output_planes);
  std::int32_t const slots = std::max(2, request.slots_wanted);
  std::int64_t const budget_pixels =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(request.memory_budget / bytes_per_pixel / slots));
  std::int64_t const tile_pixels = std::min(request.target_tile_pixels, budget_pixels);

  // Grow the tile by whole blocks: first along rows (a tile row reads contiguous blocks),
  // then down, while it stays within the pixel allowance.
  std::int64_t nx = 1, ny = 1;
  while (nx < blocks_x && (nx + 1) * block_w * block_h <= tile_pixels) ++nx;
  while (ny < blocks_y && nx * block_w * (ny + 1) * block_h <= tile_pixels) ++ny;

  TilePlan plan;
  plan.grid = grid;
  plan.tile_width = static_cast<std::int32_t>(std::min(nx * block_w, grid.width));
  plan.tile_height = static_cast<std::int32_t>(std::min(ny * block_h, grid.height));
  // Spend what the budget allows on extra slots, up to what keeps every thread busy.
  std::size_t const slot_bytes = plan.max_tile_pixels() * bytes_per_pixel;
  plan.slot_count = static_cast<std::int32_t>(
      std::clamp<std::size_t>(request.memory_budget / slot_bytes, 2, static_cast<std::size_t>(slots)));
  std::int64_t const tile_count = ((grid.width + plan.tile_width - 1) / plan.tile_width) *
                                  ((grid.height + plan.tile_height - 1) / plan.tile_height);
  plan.slot_count = static_cast<std::int32_t>(std::min<std::int64_t>(plan.slot_count, tile_count));  // no idle slots

  std::int64_t id = 0;
  for (std::int64_t y = 0; y < grid.height; y += plan.tile_height) {
    for (std::int64_t x = 0; x < grid.width; x += plan.tile_width) {
      TileWindow t;
      t.id = id++;
      t.x0 = x;
      t.y0 = y;
      t.width = static_cast<std::int32_t>(std::min<std::int64_t>(plan.tile_width, grid.width - x));
      t.height = static_cast<std::int32_t>(std::min<std::int64_t>(plan.tile_height, grid.height - y));
      plan.tiles.push_back(t);
    }
  }
  return plan;
}

}  // namespace reclaim
