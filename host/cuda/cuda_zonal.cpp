#include "host/cuda/cuda_zonal.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace reclaim::cuda {
namespace {

/// Makes `device` current before the members (the stream first) are created on it.
int select_device(int device) {
  set_device(device);
  return device;
}

}  // namespace

ZonalPlan plan_zonal_items(std::span<pixel::ZonalItem const> items, int zone_count, std::size_t width,
                           std::size_t rows) {
  RECLAIM_EXPECTS(items.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                  "zonal: more than 2^31 - 1 items in one tile");
  ZonalPlan plan;
  plan.item_offset.resize(items.size() + 1);
  plan.item_offset[0] = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto const& it = items[i];
    RECLAIM_EXPECTS(it.zone >= 0 && it.zone < zone_count,
                    "zonal: item " + std::to_string(i) + " has zone " + std::to_string(it.zone) + " outside [0, " +
                        std::to_string(zone_count) + ")");
    RECLAIM_EXPECTS(i == 0 || items[i - 1].zone <= it.zone,
                    "zonal: items not sorted by zone (item " + std::to_string(i) + ")");
    std::int64_t const pixels = it.col_end > it.col_begin ? std::int64_t{it.col_end} - it.col_begin : 0;
    if (pixels > 0)
      RECLAIM_EXPECTS(it.row >= 0 && static_cast<std::size_t>(it.row) < rows && it.col_begin >= 0 &&
                          static_cast<std::size_t>(it.col_end) <= width,
                      "zonal: item " + std::to_string(i) + " lies outside the " + std::to_string(width) + " x " +
                          std::to_string(rows) + " tile");
    plan.item_offset[i + 1] = plan.item_offset[i] + pixels;
  }

  // Each zone's run of items is one range of the pixel order; cut it into chunks.
  auto const off = plan.item_offset.begin();
  std::size_t run = 0;
  while (run < items.size()) {
    std::size_t run_end = run + 1;
    while (run_end < items.size() && items[run_end].zone == items[run].zone) ++run_end;
    std::int64_t const last = plan.item_offset[run_end];
    for (std::int64_t p = plan.item_offset[run]; p < last; p += kernels::kZonalChunkPixels) {
      std::int64_t const q = std::min<std::int64_t>(p + kernels::kZonalChunkPixels, last);
      // The last item starting at or before p holds p; the first starting at or after q ends the chunk.
      auto const run_first = off + static_cast<std::ptrdiff_t>(run);
      auto const run_last = off + static_cast<std::ptrdiff_t>(run_end) + 1;
      auto const first = std::upper_bound(run_first, run_last, p) - 1;
      auto const after = std::lower_bound(first, run_last, q);
      plan.chunks.push_back({p, static_cast<std::int32_t>(q - p), items[run].zone,
                             static_cast<std::int32_t>(first - off), static_cast<std::int32_t>(after - off)});
    }
    run = run_end;
  }
  return plan;
}

CudaZonalAccumulator::CudaZonalAccumulator(int zone_count, bool histograms, double lo, double hi, int device)
    : m_device(select_device(device)), m_zone_count(zone_count) {
  RECLAIM_EXPECTS(zone_count >= 0, "zonal: negative zone count");
  auto const zones = static_cast<std::size_t>(zone_count);
  cudaStream_t const s = m_stream.get();
  m_values = DeviceBuffer<pixel::ValueAccumulator>(zones, s);
  m_areas = DeviceBuffer<pixel::ZoneArea>(zones, s);
  if (zones == 0) return;
  // The all-zero state is the empty accumulator (pixel/zonal.hpp).
  RECLAIM_CUDA_TRY(cudaMemsetAsync(m_values.data(), 0, zones * sizeof(pixel::ValueAccumulator), s));
  RECLAIM_CUDA_TRY(cudaMemsetAsync(m_areas.data(), 0, zones * sizeof(pixel::ZoneArea), s));
  if (histograms) {
    RECLAIM_EXPECTS(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "zonal: histogram range needs finite lo < hi");
    m_histograms = DeviceBuffer<kernels::ZonalHistogram>(zones, s);
    kernels::zonal_histograms_init_async(m_histograms.data(), zone_count, lo, hi, s);
  }
  m_stream.synchronize();
}

bool CudaZonalAccumulator::upload_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane,
                                       std::size_t width, std::span<double const> row_cell) {
  std::size_t const rows = row_cell.size();
  RECLAIM_EXPECTS(width == 0 || plane.size() / width >= rows, "zonal: plane smaller than width x rows");
  m_plan = plan_zonal_items(items, m_zone_count, width, rows);
  if (m_plan.chunks.empty()) return false;
  cudaStream_t const s = m_stream.get();
  m_tile.upload_async(items, m_plan, s);
  upload_async(m_plane, plane.first(width * rows), s);
  upload_async(m_row_cell, row_cell, s);
  return true;
}

void DeviceZonalItems::upload_async(std::span<pixel::ZonalItem const> items, ZonalPlan const& plan,
                                    cudaStream_t stream) {
  RECLAIM_EXPECTS(plan.item_offset.size() == items.size() + 1, "zonal: plan made for other items");
  cuda::upload_async(m_items, items, stream);
  cuda::upload_async(m_item_offset, std::span<std::int64_t const>(plan.item_offset), stream);
  cuda::upload_async(m_chunks, std::span<kernels::ZonalChunk const>(plan.chunks), stream);
  m_chunk_count = static_cast<int>(plan.chunks.size());
}

kernels::ZonalItemsView DeviceZonalItems::view() const noexcept {
  return {m_items.data(), m_item_offset.data(), m_chunks.data(), m_chunk_count};
}

void CudaZonalAccumulator::add_value_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane,
                                          std::size_t width, std::span<double const> row_cell_m2) {
  set_device(m_device);
  if (!upload_tile(items, plane, width, row_cell_m2)) return;
  cudaStream_t const s = m_stream.get();
  if (m_partials.size() < m_plan.chunks.size())
    m_partials = DeviceBuffer<kernels::ZonalValuePartial>(m_plan.chunks.size(), s);
  kernels::zonal_value_async(m_tile.view(), m_plane.data(), width, m_row_cell.data(), m_partials.data(),
                             m_values.data(), m_areas.data(), m_histograms.data(), s);
  m_stream.synchronize();
}

void CudaZonalAccumulator::add_class_tile(std::span<pixel::ZonalItem const> items, std::span<float const> plane,
                                          std::size_t width, std::span<double const> row_cell_units) {
  set_device(m_device);
  cudaStream_t const s = m_stream.get();
  if (m_classes.size() == 0 && m_zone_count > 0) {
    auto const zones = static_cast<std::size_t>(m_zone_count);
    m_classes = DeviceBuffer<pixel::ClassAccumulator>(zones, s);
    RECLAIM_CUDA_TRY(cudaMemsetAsync(m_classes.data(), 0, zones * sizeof(pixel::ClassAccumulator), s));
  }
  if (upload_tile(items, plane, width, row_cell_units)) {
    kernels::zonal_class_async(m_tile.view(), m_plane.data(), width, m_row_cell.data(), m_classes.data(), s);
  }
  m_stream.synchronize();
}

ZonalResults CudaZonalAccumulator::download() const {
  set_device(m_device);
  cudaStream_t const s = m_stream.get();
  auto const zones = static_cast<std::size_t>(m_zone_count);
  ZonalResults r;
  auto fetch = [&](auto& out, auto const& buffer) {
    out.resize(buffer.size() == 0 ? 0 : zones);
    if (!out.empty())
      RECLAIM_CUDA_TRY(cudaMemcpyAsync(out.data(), buffer.data(), zones * sizeof(out[0]), cudaMemcpyDeviceToHost, s));
  };
  fetch(r.values, m_values);
  fetch(r.areas, m_areas);
  fetch(r.histograms, m_histograms);
  fetch(r.classes, m_classes);
  m_stream.synchronize();
  return r;
}

}  // namespace reclaim::cuda
