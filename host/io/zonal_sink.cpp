#include "reclaim/io/zonal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "reclaim/cell_area.hpp"
#include "reclaim/error.hpp"

namespace reclaim::io {

ProductAccumulators ProductAccumulators::make(ZonalProduct const& product, std::size_t zones) {
  ProductAccumulators acc;
  acc.values.assign(zones, pixel::ValueAccumulator{});
  acc.areas.assign(zones, pixel::ZoneArea{});
  if (product.histograms && !product.categorical)
    acc.histograms.assign(zones, ZonalHistogram::make(product.histogram_lo, product.histogram_hi));
  if (product.categorical) acc.classes.assign(zones, pixel::ClassAccumulator{});
  return acc;
}

void ProductAccumulators::merge(ProductAccumulators const& o) {
  if (o.values.size() != values.size() || o.histograms.size() != histograms.size() ||
      o.classes.size() != classes.size())
    throw input_error("zonal accumulators: cannot merge results of different zones or products");
  for (std::size_t z = 0; z < values.size(); ++z) {
    values[z].merge(o.values[z]);
    areas[z].area_m2.merge(o.areas[z].area_m2);
    areas[z].valid_area_m2.merge(o.areas[z].valid_area_m2);
  }
  for (std::size_t z = 0; z < histograms.size(); ++z) {
    if (!histograms[z].same_range(o.histograms[z]))
      throw input_error("zonal accumulators: histogram ranges differ (use the same --histogram-range for every shard)");
    histograms[z].merge(o.histograms[z]);
  }
  if (!classes.empty() && class_unit_m2 != o.class_unit_m2)
    throw input_error("zonal accumulators: class results of different pixel sizes cannot be merged");
  for (std::size_t z = 0; z < classes.size(); ++z) classes[z].merge(o.classes[z]);
}

ZonalSink::ZonalSink(Grid const& grid, std::vector<Zone> const& zones, CoverageMode mode, bool geographic,
                     std::vector<ZonalProduct> products)
    : m_grid(grid), m_zones(zones), m_mode(mode), m_geographic(geographic), m_products(std::move(products)) {
  // Class weights count pixels (exact) in a projected CRS; in a geographic one, a unit that
  // depends only on the pixel size, so shards at one resolution merge.
  auto const& gt = grid.geotransform;
  constexpr double kPi = 3.14159265358979323846, kEquatorM = 6378137.0 * kPi / 180.0;  // metres per degree
  m_class_unit_m2 = m_geographic ? std::abs(gt[1] * gt[5]) * kEquatorM * kEquatorM : std::abs(gt[1] * gt[5]);
  m_cover.resize(zones.size());
  m_cover_window.resize(zones.size());
  m_covered.assign(zones.size(), false);
  for (auto const& p : m_products) {
    m_results.push_back(ProductAccumulators::make(p, zones.size()));
    m_results.back().class_unit_m2 = m_class_unit_m2;
  }
}

void ZonalSink::write(TileWindow const& w, float const* planes, int plane_count) {
  auto const& gt = m_grid.geotransform;
  // The tile's extent in map units, to skip zones whose bounding box misses it.
  double const x0 = gt[0] + gt[1] * static_cast<double>(w.x0);
  double const x1 = gt[0] + gt[1] * static_cast<double>(w.x0 + w.width);
  double const ya = gt[3] + gt[5] * static_cast<double>(w.y0);
  double const yb = gt[3] + gt[5] * static_cast<double>(w.y0 + w.height);
  double const tx0 = std::min(x0, x1), tx1 = std::max(x0, x1), ty0 = std::min(ya, yb), ty1 = std::max(ya, yb);
  m_items.clear();
  for (std::size_t z = 0; z < m_zones.size(); ++z) {
    auto const& zone = m_zones[z];
    if (zone.parts.empty()) continue;
    auto const& b = zone.bbox;
    if (b[2] < tx0 || b[0] > tx1 || b[3] < ty0 || b[1] > ty1) continue;
    if (!m_covered[z]) {
      // The zone's pixel window on the grid's lattice (it may reach past the grid).
      double const c0 = std::floor(std::min((b[0] - gt[0]) / gt[1], (b[2] - gt[0]) / gt[1]));
      double const c1 = std::ceil(std::max((b[0] - gt[0]) / gt[1], (b[2] - gt[0]) / gt[1]));
      double const r0 = std::floor(std::min((b[1] - gt[3]) / gt[5], (b[3] - gt[3]) / gt[5]));
      double const r1 = std::ceil(std::max((b[1] - gt[3]) / gt[5], (b[3] - gt[3]) / gt[5]));
      TileWindow zw;
      zw.x0 = static_cast<std::int64_t>(c0);
      zw.y0 = static_cast<std::int64_t>(r0);
      zw.width = static_cast<std::int32_t>(std::max(1.0, c1 - c0));
      zw.height = static_cast<std::int32_t>(std::max(1.0, r1 - r0));
      m_cover[z] = cover(std::span<Polygon const>(zone.parts), m_grid, zw, m_mode);
      m_cover_window[z] = zw;
      m_covered[z] = true;
    }
    // The part of the zone's coverage inside this tile, in tile coordinates.
    auto const& cov = m_cover[z];
    auto const& zw = m_cover_window[z];
    auto const dx = static_cast<std::int32_t>(zw.x0 - w.x0), dy = static_cast<std::int32_t>(zw.y0 - w.y0);
    std::int32_t const row_lo = -dy, row_hi = w.height - dy;  // zone-window rows inside the tile
    std::int32_t const col_lo = -dx, col_hi = w.width - dx;
    auto const zi = static_cast<std::int32_t>(z);
    auto span = std::lower_bound(cov.spans.begin(), cov.spans.end(), row_lo,
                                 [](CoverageSpan const& s, std::int32_t r) { return s.row < r; });
    for (; span != cov.spans.end() && span->row < row_hi; ++span) {
      std::int32_t const a = std::max(span->col_begin, col_lo), e = std::min(span->col_end, col_hi);
      if (a < e) m_items.push_back({zi, span->row + dy, a + dx, e + dx, 1.0});
    }
    auto edge = std::lower_bound(cov.edges.begin(), cov.edges.end(), row_lo,
                                 [](EdgePixel const& px, std::int32_t r) { return px.row < r; });
    for (; edge != cov.edges.end() && edge->row < row_hi; ++edge)
      if (edge->col >= col_lo && edge->col < col_hi)
        m_items.push_back({zi, edge->row + dy, edge->col + dx, edge->col + dx + 1, edge->fraction});
  }
  if (m_items.empty()) return;
  std::vector<double> row_m2 = row_areas_ha(m_grid, w, m_geographic);
  for (auto& a : row_m2) a *= 1e4;
  std::vector<double> row_units(row_m2.size(), 1.0);
  if (m_geographic)
    for (std::size_t i = 0; i < row_m2.size(); ++i) row_units[i] = row_m2[i] / m_class_unit_m2;
  std::size_t const plane_pixels = static_cast<std::size_t>(w.width) * static_cast<std::size_t>(w.height);
  auto const width = static_cast<std::size_t>(w.width);
  for (std::size_t p = 0; p < m_products.size(); ++p) {
    auto const& product = m_products[p];
    RECLAIM_EXPECTS(product.plane >= 0 && product.plane < plane_count, "zonal product plane out of range");
    float const* plane = planes + static_cast<std::size_t>(product.plane) * plane_pixels;
    auto& acc = m_results[p];
    if (product.categorical) {
      if (product.threshold) {  // classes of the covered pixels only (the rest are never read)
        float const t = static_cast<float>(*product.threshold);
        m_threshold_plane.resize(plane_pixels);
        for (auto const& it : m_items)
          for (std::int32_t c = it.col_begin; c < it.col_end; ++c) {
            std::size_t const i = static_cast<std::size_t>(it.row) * width + static_cast<std::size_t>(c);
            m_threshold_plane[i] = pixel::threshold_class(plane[i], t);
          }
        plane = m_threshold_plane.data();
      }
      pixel::accumulate_class_items(m_items, plane, width, row_units.data(), acc.classes.data());
      pixel::accumulate_covered_area(m_items, row_m2.data(), acc.areas.data());
    } else {
      pixel::accumulate_value_items<kZonalBins>(m_items, plane, width, row_m2.data(), acc.values.data(),
                                                acc.areas.data(),
                                                acc.histograms.empty() ? nullptr : acc.histograms.data());
    }
  }
}

bool is_zonal_stat(std::string const& name) noexcept {
  static char const* const names[] = {"count", "nodata_count", "area_ha", "valid_area_ha", "sum",    "mean",
                                      "stddev", "min",         "max",     "median",        "coverage"};
  for (auto const* n : names)
    if (name == n) return true;
  if (name.size() >= 2 && name[0] == 'p') {
    char* end = nullptr;
    double const p = std::strtod(name.c_str() + 1, &end);
    return end && *end == '\0' && p >= 0 && p <= 100;
  }
  return false;
}

bool needs_histograms(std::vector<std::string> const& stats) noexcept {
  return std::any_of(stats.begin(), stats.end(),
                     [](std::string const& s) { return s == "median" || (!s.empty() && s[0] == 'p'); });
}

double value_stat(ProductAccumulators const& acc, std::size_t z, std::string const& name) {
  auto const& v = acc.values[z];
  if (name == "count") return v.weight();
  if (name == "nodata_count") return v.nodata_weight();
  if (name == "area_ha") return acc.areas[z].area_m2.value() * 1e-4;
  if (name == "valid_area_ha") return acc.areas[z].valid_area_m2.value() * 1e-4;
  if (name == "sum") return v.sum();
  if (name == "mean") return v.mean();
  if (name == "stddev") return v.stddev();
  if (name == "min") return v.min();
  if (name == "max") return v.max();
  if (name == "coverage") return v.valid_fraction();
  if (acc.histograms.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (name == "median") return acc.histograms[z].median();
  return acc.histograms[z].percentile(std::strtod(name.c_str() + 1, nullptr));
}

}  // namespace reclaim::io
