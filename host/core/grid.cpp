#include <algorithm>
#include <cmath>

#include "reclaim/grid.hpp"

namespace reclaim {

Bounds window_bounds(Grid const& grid, TileWindow const& w) noexcept {
  auto const& gt = grid.geotransform;
  double const xa = gt[0] + gt[1] * static_cast<double>(w.x0);
  double const xb = gt[0] + gt[1] * static_cast<double>(w.x0 + w.width);
  double const ya = gt[3] + gt[5] * static_cast<double>(w.y0);
  double const yb = gt[3] + gt[5] * static_cast<double>(w.y0 + w.height);
  return {std::min(xa, xb), std::min(ya, yb), std::max(xa, xb), std::max(ya, yb)};
}

std::array<double, 6> window_geotransform(Grid const& grid, TileWindow const& w, std::int32_t step) noexcept {
  auto const& gt = grid.geotransform;
  return {gt[0] + gt[1] * static_cast<double>(w.x0), gt[1] * step, 0.0,
          gt[3] + gt[5] * static_cast<double>(w.y0), 0.0, gt[5] * step};
}

TileWindow window_of_bounds(Grid const& grid, Bounds const& b, double margin) noexcept {
  auto const& gt = grid.geotransform;
  double const xa = (b[0] - gt[0]) / gt[1], xb = (b[2] - gt[0]) / gt[1];
  double const ya = (b[1] - gt[3]) / gt[5], yb = (b[3] - gt[3]) / gt[5];
  double const c0 = std::floor(std::min(xa, xb) - margin), c1 = std::ceil(std::max(xa, xb) + margin);
  double const r0 = std::floor(std::min(ya, yb) - margin), r1 = std::ceil(std::max(ya, yb) + margin);
  TileWindow w;
  w.x0 = static_cast<std::int64_t>(c0);
  w.y0 = static_cast<std::int64_t>(r0);
  w.width = static_cast<std::int32_t>(std::max(1.0, c1 - c0));
  w.height = static_cast<std::int32_t>(std::max(1.0, r1 - r0));
  return w;
}

TileWindow intersection(TileWindow const& a, TileWindow const& b) noexcept {
  std::int64_t const x0 = std::max(a.x0, b.x0), x1 = std::min(a.x0 + a.width, b.x0 + b.width);
  std::int64_t const y0 = std::max(a.y0, b.y0), y1 = std::min(a.y0 + a.height, b.y0 + b.height);
  return TileWindow{0, x0, y0, static_cast<std::int32_t>(std::max<std::int64_t>(0, x1 - x0)),
                    static_cast<std::int32_t>(std::max<std::int64_t>(0, y1 - y0))};
}

TileWindow clip_to_grid(Grid const& grid, TileWindow const& w) noexcept {
  std::int64_t const x0 = std::clamp<std::int64_t>(w.x0, 0, grid.width);
  std::int64_t const y0 = std::clamp<std::int64_t>(w.y0, 0, grid.height);
  std::int64_t const x1 = std::clamp<std::int64_t>(w.x0 + w.width, 0, grid.width);
  std::int64_t const y1 = std::clamp<std::int64_t>(w.y0 + w.height, 0, grid.height);
  TileWindow out = w;
  out.x0 = x0;
  out.y0 = y0;
  out.width = static_cast<std::int32_t>(std::max<std::int64_t>(0, x1 - x0));
  out.height = static_cast<std::int32_t>(std::max<std::int64_t>(0, y1 - y0));
  return out;
}

}  // namespace reclaim
