#include "reclaim/zonal_work.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <exception>
#include <thread>

#include "reclaim/cell_area.hpp"
#include "reclaim/error.hpp"

namespace reclaim {

ProductAccumulators ProductAccumulators::make(ZonalProduct const& product, std::size_t zones, double class_unit_m2) {
  ProductAccumulators acc;
  acc.values.assign(zones, pixel::ValueAccumulator{});
  acc.areas.assign(zones, pixel::ZoneArea{});
  if (product.histograms && !product.categorical)
    acc.histograms.assign(zones, ZonalHistogram::make(product.histogram_lo, product.histogram_hi));
  if (product.categorical) acc.classes.assign(zones, pixel::ClassAccumulator{});
  acc.class_unit_m2 = class_unit_m2;
  return acc;
}

void ProductAccumulators::merge(ProductAccumulators const& o) {
  if (o.values.size() != values.size() || o.histograms.size() != histograms.size() ||
      o.classes.size() != classes.size())
    throw input_error("zonal accumulators: cannot merge results of different zones or products");
  for (std::size_t z = 0; z < values.size(); ++z) merge_zone(o, z, z);
}

void ProductAccumulators::merge_zone(ProductAccumulators const& o, std::size_t from, std::size_t to) {
  if (from >= o.values.size() || to >= values.size() || o.histograms.empty() != histograms.empty() ||
      o.classes.empty() != classes.empty())
    throw input_error("zonal accumulators: cannot merge results of different zones or products");
  values[to].merge(o.values[from]);
  areas[to].area_m2.merge(o.areas[from].area_m2);
  areas[to].valid_area_m2.merge(o.areas[from].valid_area_m2);
  if (!histograms.empty()) {
    if (!histograms[to].same_range(o.histograms[from]))
      throw input_error("zonal accumulators: histogram ranges differ (use the same --histogram-range for every shard)");
    histograms[to].merge(o.histograms[from]);
  }
  if (!classes.empty()) {
    if (class_unit_m2 != o.class_unit_m2)
      throw input_error("zonal accumulators: class results of different pixel sizes cannot be merged");
    classes[to].merge(o.classes[from]);
  }
}

std::vector<ProductAccumulators> ZonalWork::make_accumulators() const {
  std::vector<ProductAccumulators> acc;
  for (auto const& p : products) acc.push_back(ProductAccumulators::make(p, zone_count, class_unit_m2));
  return acc;
}

namespace {

/// Class weights count pixels (exact) in a projected CRS; in a geographic one, a unit that
/// depends only on the pixel size, so shards at one resolution merge.
double class_unit_m2_of(Grid const& grid, bool geographic) noexcept {
  auto const& gt = grid.geotransform;
  constexpr double kPi = 3.14159265358979323846, kEquatorM = 6378137.0 * kPi / 180.0;  // metres per degree
  return geographic ? std::abs(gt[1] * gt[5]) * kEquatorM * kEquatorM : std::abs(gt[1] * gt[5]);
}

/// The part of a zone's coverage (over its own window zw) inside tile w, as items in tile coordinates.
void cut_items(ZoneCoverage const& cov, TileWindow const& zw, TileWindow const& w, std::int32_t zone,
               std::vector<pixel::ZonalItem>& items) {
  auto const dx = static_cast<std::int32_t>(zw.x0 - w.x0), dy = static_cast<std::int32_t>(zw.y0 - w.y0);
  std::int32_t const row_lo = -dy, row_hi = w.height - dy;  // zone-window rows inside the tile
  std::int32_t const col_lo = -dx, col_hi = w.width - dx;
  auto span = std::lower_bound(cov.spans.begin(), cov.spans.end(), row_lo,
                               [](CoverageSpan const& s, std::int32_t r) { return s.row < r; });
  for (; span != cov.spans.end() && span->row < row_hi; ++span) {
    std::int32_t const a = std::max(span->col_begin, col_lo), e = std::min(span->col_end, col_hi);
    if (a < e) items.push_back({zone, span->row + dy, a + dx, e + dx, 1.0});
  }
  auto edge = std::lower_bound(cov.edges.begin(), cov.edges.end(), row_lo,
                               [](EdgePixel const& px, std::int32_t r) { return px.row < r; });
  for (; edge != cov.edges.end() && edge->row < row_hi; ++edge)
    if (edge->col >= col_lo && edge->col < col_hi)
      items.push_back({zone, edge->row + dy, edge->col + dx, edge->col + dx + 1, edge->fraction});
}

}  // namespace

ZonalWork make_zonal_work(Grid const& grid, std::span<TileWindow const> tiles, std::span<Zone const> zones,
                          CoverageMode mode, bool geographic, std::vector<ZonalProduct> products, int threads) {
  ZonalWork work;
  work.products = std::move(products);
  work.zone_count = zones.size();
  work.class_unit_m2 = class_unit_m2_of(grid, geographic);

  // Each zone's coverage over its own pixel window, on the grid's lattice (it may reach past
  // the grid): zones interleaved over the threads, each writing only its own entries.
  std::vector<ZoneCoverage> cover(zones.size());
  std::vector<TileWindow> cover_window(zones.size());
  auto cover_every = [&](std::size_t first, std::size_t stride) {
    for (std::size_t z = first; z < zones.size(); z += stride) {
      if (zones[z].parts.empty()) continue;
      cover_window[z] = window_of_bounds(grid, zones[z].bbox);
      cover[z] = reclaim::cover(std::span<Polygon const>(zones[z].parts), grid, cover_window[z], mode);
    }
  };
  std::size_t const n_threads = static_cast<std::size_t>(std::clamp(threads, 1, 64));
  if (n_threads == 1 || zones.size() < 2) {
    cover_every(0, 1);
  } else {
    std::vector<std::exception_ptr> errors(n_threads);
    {
      std::vector<std::jthread> pool;
      for (std::size_t t = 0; t < n_threads; ++t)
        pool.emplace_back([&, t] {
          try {
            cover_every(t, n_threads);
          } catch (...) {
            errors[t] = std::current_exception();
          }
        });
    }
    for (auto const& e : errors)
      if (e) std::rethrow_exception(e);
  }

  // Each zone's coverage cut into the tiles its window meets, zones in order, so that every
  // tile's items stay sorted by zone. The tiles a window meets come from a bucket grid of the
  // largest tile's size (a tile lies in at most 4 buckets), not from a test of every tile.
  work.tiles.resize(tiles.size());
  std::int64_t bw = 1, bh = 1, bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;
  for (auto const& w : tiles) {
    bw = std::max<std::int64_t>(bw, w.width);
    bh = std::max<std::int64_t>(bh, w.height);
  }
  if (!tiles.empty()) {
    bx0 = tiles[0].x0, by0 = tiles[0].y0, bx1 = tiles[0].x0, by1 = tiles[0].y0;
    for (auto const& w : tiles) {
      bx0 = std::min(bx0, w.x0), by0 = std::min(by0, w.y0);
      bx1 = std::max(bx1, w.x0 + w.width), by1 = std::max(by1, w.y0 + w.height);
    }
  }
  auto bucket_floor = [](std::int64_t v, std::int64_t step) { return v >= 0 ? v / step : -((-v + step - 1) / step); };
  std::int64_t const ncx = bucket_floor(bx1 - bx0 - 1, bw) + 1, ncy = bucket_floor(by1 - by0 - 1, bh) + 1;
  std::vector<std::vector<std::uint32_t>> bucket(tiles.empty() ? 0 : static_cast<std::size_t>(ncx * ncy));
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    auto const& w = tiles[t];
    if (w.width <= 0 || w.height <= 0) continue;
    for (auto cy = bucket_floor(w.y0 - by0, bh); cy <= bucket_floor(w.y0 + w.height - 1 - by0, bh); ++cy)
      for (auto cx = bucket_floor(w.x0 - bx0, bw); cx <= bucket_floor(w.x0 + w.width - 1 - bx0, bw); ++cx)
        bucket[static_cast<std::size_t>(cy * ncx + cx)].push_back(static_cast<std::uint32_t>(t));
  }
  std::vector<std::uint32_t> met;
  for (std::size_t z = 0; z < zones.size() && !bucket.empty(); ++z) {
    auto const& zw = cover_window[z];
    if (zones[z].parts.empty() || zw.width <= 0 || zw.height <= 0) continue;
    met.clear();
    auto const cy0 = std::max<std::int64_t>(0, bucket_floor(zw.y0 - by0, bh));
    auto const cy1 = std::min<std::int64_t>(ncy - 1, bucket_floor(zw.y0 + zw.height - 1 - by0, bh));
    auto const cx0 = std::max<std::int64_t>(0, bucket_floor(zw.x0 - bx0, bw));
    auto const cx1 = std::min<std::int64_t>(ncx - 1, bucket_floor(zw.x0 + zw.width - 1 - bx0, bw));
    for (auto cy = cy0; cy <= cy1; ++cy)
      for (auto cx = cx0; cx <= cx1; ++cx)
        for (auto t : bucket[static_cast<std::size_t>(cy * ncx + cx)])
          if (overlaps(zw, tiles[t])) met.push_back(t);
    std::sort(met.begin(), met.end());
    met.erase(std::unique(met.begin(), met.end()), met.end());
    for (auto t : met) cut_items(cover[z], zw, tiles[t], static_cast<std::int32_t>(z), work.tiles[t].items);
  }
  for (std::size_t t = 0; t < tiles.size(); ++t) {
    auto const& w = tiles[t];
    auto& out = work.tiles[t];
    if (out.items.empty()) continue;
    out.row_m2 = row_areas_ha(grid, w, geographic);
    for (auto& a : out.row_m2) a *= 1e4;
    out.row_units.assign(out.row_m2.size(), 1.0);
    if (geographic)
      for (std::size_t i = 0; i < out.row_m2.size(); ++i) out.row_units[i] = out.row_m2[i] / work.class_unit_m2;
  }
  return work;
}

void accumulate_tile_cpu(ZonalWork const& work, std::size_t tile, float const* planes, int plane_count,
                         std::size_t width, std::size_t pixels, std::vector<ProductAccumulators>& acc,
                         std::vector<float>& scratch) {
  RECLAIM_EXPECTS(tile < work.tiles.size(), "zonal work has no such tile");
  auto const& t = work.tiles[tile];
  if (t.items.empty()) return;
  for (std::size_t p = 0; p < work.products.size(); ++p) {
    auto const& product = work.products[p];
    RECLAIM_EXPECTS(product.plane >= 0 && product.plane < plane_count, "zonal product plane out of range");
    float const* plane = planes + static_cast<std::size_t>(product.plane) * pixels;
    auto& a = acc[p];
    if (product.categorical) {
      if (product.threshold) {  // classes of the covered pixels only (the rest are never read)
        float const threshold = static_cast<float>(*product.threshold);
        scratch.resize(pixels);
        for (auto const& it : t.items)
          for (std::int32_t c = it.col_begin; c < it.col_end; ++c) {
            std::size_t const i = static_cast<std::size_t>(it.row) * width + static_cast<std::size_t>(c);
            scratch[i] = pixel::threshold_class(plane[i], threshold);
          }
        plane = scratch.data();
      }
      pixel::accumulate_class_items(t.items, plane, width, t.row_units.data(), a.classes.data());
      pixel::accumulate_covered_area(t.items, t.row_m2.data(), a.areas.data());
    } else {
      pixel::accumulate_value_items<kZonalBins>(t.items, plane, width, t.row_m2.data(), a.values.data(),
                                                a.areas.data(), a.histograms.empty() ? nullptr : a.histograms.data());
    }
  }
}

void merge_zonal_results(std::vector<ProductAccumulators>& into, std::vector<ProductAccumulators> const& from) {
  if (into.empty()) {
    into = from;
    return;
  }
  RECLAIM_EXPECTS(into.size() == from.size(), "zonal results of different products");
  for (std::size_t p = 0; p < into.size(); ++p) into[p].merge(from[p]);
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

}  // namespace reclaim
