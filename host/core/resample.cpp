#include "reclaim/resample.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace reclaim {

std::optional<Resampling> parse_resampling(std::string_view name) noexcept {
  if (name == "nearest") return Resampling::nearest;
  if (name == "bilinear") return Resampling::bilinear;
  return std::nullopt;
}

namespace {

/// Coarse continuous pixel-centre coordinate of fine pixel i.
double coarse_coordinate(std::int64_t fine_index, int factor) noexcept {
  return (static_cast<double>(fine_index) + 0.5) / factor - 0.5;
}

/// Linear interpolation that ignores a zero-weight end, so a NaN there does not spread.
double lerp(double a, double b, double t) noexcept { return t == 0.0 ? a : (1.0 - t) * a + t * b; }

}  // namespace

CoarseWindow coarse_window_for(TileWindow const& fine, int fx, int fy, std::int64_t coarse_width,
                               std::int64_t coarse_height, Resampling method) noexcept {
  // Nearest needs the coarse pixels containing the fine ones; bilinear one more on each side.
  std::int64_t const margin = method == Resampling::bilinear ? 1 : 0;
  std::int64_t x0 = fine.x0 / fx - margin;
  std::int64_t y0 = fine.y0 / fy - margin;
  std::int64_t x1 = (fine.x0 + fine.width - 1) / fx + margin;
  std::int64_t y1 = (fine.y0 + fine.height - 1) / fy + margin;
  x0 = std::clamp<std::int64_t>(x0, 0, coarse_width - 1);
  y0 = std::clamp<std::int64_t>(y0, 0, coarse_height - 1);
  x1 = std::clamp<std::int64_t>(x1, 0, coarse_width - 1);
  y1 = std::clamp<std::int64_t>(y1, 0, coarse_height - 1);
  return CoarseWindow{x0, y0, static_cast<std::int32_t>(x1 - x0 + 1), static_cast<std::int32_t>(y1 - y0 + 1)};
}

void upsample(float const* coarse, CoarseWindow const& cw, TileWindow const& fine, int fx, int fy,
              std::int64_t coarse_width, std::int64_t coarse_height, Resampling method, float* out) noexcept {
  // Every row uses the same columns and weights: computed once per call (as the per-pixel
  // formula would, so the values are the same bits), which made this 3x faster in a profile
  // of the composite reader (20 m bands of 20 scenes upsampled per tile).
  auto const width = static_cast<std::size_t>(fine.width);
  static thread_local std::vector<std::int64_t> col0, col1;
  static thread_local std::vector<double> weight;
  col0.resize(width);
  col1.resize(width);
  weight.resize(width);
  for (std::size_t col = 0; col < width; ++col) {
    std::int64_t const fx_index = fine.x0 + static_cast<std::int64_t>(col);
    if (method == Resampling::nearest) {
      col0[col] = std::min(fx_index / fx, coarse_width - 1) - cw.x0;
      continue;
    }
    double const u = coarse_coordinate(fx_index, fx);
    double const u_floor = std::floor(u);
    weight[col] = u - u_floor;
    col0[col] = std::clamp<std::int64_t>(static_cast<std::int64_t>(u_floor), 0, coarse_width - 1) - cw.x0;
    col1[col] = std::clamp<std::int64_t>(static_cast<std::int64_t>(u_floor) + 1, 0, coarse_width - 1) - cw.x0;
  }
  auto coarse_row = [&](std::int64_t cy) { return coarse + (cy - cw.y0) * cw.width; };
  for (std::int32_t row = 0; row < fine.height; ++row) {
    std::int64_t const fy_index = fine.y0 + row;
    float* out_row = out + static_cast<std::size_t>(row) * width;
    if (method == Resampling::nearest) {
      float const* in = coarse_row(std::min(fy_index / fy, coarse_height - 1));
      for (std::size_t col = 0; col < width; ++col) out_row[col] = in[col0[col]];
      continue;
    }
    double const v = coarse_coordinate(fy_index, fy);
    double const v_floor = std::floor(v);
    double const ty = v - v_floor;
    float const* top_row = coarse_row(std::clamp<std::int64_t>(static_cast<std::int64_t>(v_floor), 0, coarse_height - 1));
    float const* bottom_row =
        coarse_row(std::clamp<std::int64_t>(static_cast<std::int64_t>(v_floor) + 1, 0, coarse_height - 1));
    for (std::size_t col = 0; col < width; ++col) {
      double const tx = weight[col];
      double const top = lerp(top_row[col0[col]], top_row[col1[col]], tx);
      double const bottom = lerp(bottom_row[col0[col]], bottom_row[col1[col]], tx);
      out_row[col] = static_cast<float>(lerp(top, bottom, ty));
    }
  }
}

}  // namespace reclaim
