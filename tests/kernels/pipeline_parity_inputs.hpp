#pragma once
// Pipeline parity cases: one per pass kind that a command sends to a backend, run through
// run_pipeline over an in-memory source and sink (no GDAL), with the command's zonal work.
//
//   indices          reclaim indices (--zones)      FusedParams, every index + visible bands
//   change           reclaim change / assess         ChangeParams, assess's six zonal products
//   trend            reclaim trend                   TrendPass (per-epoch NDVI, then trends)
//   band_values      reclaim zonal --raster          BandParams, value statistics + histograms,
//                                                    only the tiles some zone meets
//   band_classes     reclaim zonal --raster --classes  BandParams, class weights
//
// tests/kernels/pipeline_parity_test.cpp runs each through the CPU and the CUDA backend and
// compares them bit for bit; tests/kernels/parity_inputs_test.cpp runs the CPU half here (where
// no GPU runs): the CPU pipeline against a whole-raster reference, and the non-vacuity checks
// the GPU test asserts before it touches the device.
//
// Only the public backend interface (Backend, run_pipeline, ZonalWork) is used, so the tests
// hold whether a CUDA worker accumulates the zonal work on the host or on the device.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/change_vector.hpp"
#include "reclaim/backend.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"
#include "reclaim/zonal_work.hpp"
#include "reclaim/zone.hpp"
#include "tests/kernels/fused_parity_inputs.hpp"
#include "tests/kernels/trend_parity_inputs.hpp"

namespace reclaim::test::pipeline {

struct PipelineCase {
  std::string name;
  Grid grid;
  PixelPass pass;
  std::vector<std::vector<float>> planes;  ///< the source's planes, whole rasters
  TilePlan plan;
  ZonalWork zonal;  ///< no products: no zonal work
  [[nodiscard]] bool has_zonal() const noexcept { return !zonal.products.empty(); }
};

inline std::vector<std::string> pipeline_case_names() {
  return {"indices", "change", "change_gated", "trend", "band_values", "band_classes"};
}

/// 300 x 230 pixels of 30 m (UTM-like, projected), 32-pixel blocks.
inline Grid pipeline_grid() {
  Grid g;
  g.width = 300;
  g.height = 230;
  g.geotransform = {500000.0, 30.0, 0.0, 7000000.0, 0.0, -30.0};
  g.block_width = g.block_height = 32;
  return g;
}

/// Map coordinates of pixel corner (col, row).
inline Point at(Grid const& g, double col, double row) {
  return {g.geotransform[0] + col * g.geotransform[1], g.geotransform[3] + row * g.geotransform[5]};
}

inline Zone make_zone(std::string id, std::vector<Polygon> parts) {
  Zone z;
  z.id = std::move(id);
  z.parts = std::move(parts);
  if (!z.parts.empty()) {
    z.bbox = {1e300, 1e300, -1e300, -1e300};
    for (auto const& part : z.parts)
      for (auto const& p : part.outer) {
        z.bbox[0] = std::min(z.bbox[0], p.x);
        z.bbox[1] = std::min(z.bbox[1], p.y);
        z.bbox[2] = std::max(z.bbox[2], p.x);
        z.bbox[3] = std::max(z.bbox[3], p.y);
      }
  }
  return z;
}

/// Mine sites on pipeline_grid(), corners off the pixel lattice (exact coverage gives edge
/// fractions): a large block over many tiles, a triangle, a square with a hole, one that
/// overlaps the block, a two-part site, one outside the grid and one without geometry.
inline std::vector<Zone> pipeline_zones(Grid const& g) {
  auto rect = [&](double c0, double r0, double c1, double r1) {
    return Ring{at(g, c0, r0), at(g, c1, r0), at(g, c1, r1), at(g, c0, r1)};
  };
  std::vector<Zone> z;
  z.push_back(make_zone("block", {Polygon{rect(10.3, 12.6, 170.8, 150.2), {}}}));
  z.push_back(make_zone("triangle", {Polygon{{at(g, 200.5, 20.25), at(g, 290.1, 60.7), at(g, 215.9, 200.3)}, {}}}));
  z.push_back(make_zone("holed", {Polygon{rect(30.5, 160.5, 120.5, 225.5), {rect(60.2, 180.7, 90.9, 210.1)}}}));
  z.push_back(make_zone("overlap", {Polygon{rect(150.1, 100.1, 240.6, 170.4), {}}}));
  z.push_back(make_zone("two_parts", {Polygon{rect(250.0, 150.0, 262.5, 160.5), {}},
                                      Polygon{rect(270.25, 205.75, 299.5, 229.5), {}}}));
  z.push_back(make_zone("outside", {Polygon{rect(400.0, 10.0, 420.0, 30.0), {}}}));
  z.push_back(make_zone("no_geometry", {}));
  return z;
}

/// 64 x 64 tiles (two blocks square): 5 x 4 tiles, the last column 44 wide, the last row 38 high.
inline TilePlan pipeline_plan(Grid const& g, PixelPass const& pass, std::int64_t tile_pixels = 64 * 64) {
  PlanRequest req;
  req.input_planes = input_plane_count(pass);
  req.output_planes = output_plane_count(pass);
  req.target_tile_pixels = tile_pixels;
  return make_plan(g, req);
}

inline ZonalProduct value_product(std::string name, int plane, bool histograms, double lo, double hi) {
  ZonalProduct p;
  p.name = std::move(name);
  p.plane = plane;
  p.histograms = histograms;
  p.histogram_lo = lo;
  p.histogram_hi = hi;
  return p;
}
inline ZonalProduct class_product(std::string name, int plane) {
  ZonalProduct p;
  p.name = std::move(name);
  p.plane = plane;
  p.categorical = true;
  return p;
}
inline ZonalProduct threshold_product(std::string name, int plane, double threshold) {
  ZonalProduct p = class_product(std::move(name), plane);
  p.threshold = threshold;
  return p;
}

/// `p` writing `outputs` only.
inline pixel::FusedParams with_outputs(pixel::FusedParams p, std::initializer_list<pixel::Index> outputs) {
  p.output_count = 0;
  for (auto o : outputs) p.outputs[p.output_count++] = o;
  return p;
}

/// `p` reading its planes `offset` planes further on (the after epoch of a change pass).
inline pixel::FusedParams shifted(pixel::FusedParams p, int offset) {
  for (auto& plane : p.band_plane)
    if (plane >= 0) plane += offset;
  if (p.mask_plane >= 0) p.mask_plane += offset;
  return p;
}

inline PipelineCase make_pipeline_case(std::string const& name) {
  using pixel::Index;
  PipelineCase c;
  c.name = name;
  c.grid = pipeline_grid();
  auto const n = c.grid.pixel_count();
  auto const zones = pipeline_zones(c.grid);
  std::vector<ZonalProduct> products;
  if (name == "indices") {
    // Every index and the visible reflectances (the pictures' planes); NDVI statistics per site.
    auto p = fused_params_for(Sensor::sentinel2);
    for (auto b : {Index::red, Index::green, Index::blue}) p.outputs[p.output_count++] = b;
    c.pass = p;
    c.planes = fused_random_planes(n, Sensor::sentinel2, 31);
    products = {value_product("ndvi", 0, true, -1.0, 1.0 + 1e-9), threshold_product("vegetated", 0, 0.3)};
  } else if (name == "change" || name == "change_gated") {
    // assess: a Sentinel-2 epoch then a Landsat epoch, each with NDVI and the visible bands.
    pixel::ChangeParams p;
    auto const epoch = {Index::ndvi, Index::red, Index::green, Index::blue};
    p.before = with_outputs(fused_params_for(Sensor::sentinel2), epoch);
    p.after = shifted(with_outputs(fused_params_for(Sensor::landsat), epoch), kFusedPlanes);
    p.rules = pixel::default_change_rules();
    c.pass = p;
    c.planes = fused_random_planes(n, Sensor::sentinel2, 41);
    auto after = fused_random_planes(n, Sensor::landsat, 42);
    // Where both epochs' pixels are clear, put the after epoch's DNs on the Landsat scale
    // (x1.1 + 7300, reflectance ~ like the S2 one): the change rules then see real NDVI pairs.
    for (int k = 0; k < pixel::kBandCount; ++k)
      for (std::int64_t i = 2; i < n; ++i) {
        auto& v = after[static_cast<std::size_t>(k)][static_cast<std::size_t>(i)];
        if (std::isfinite(v) && v > 0.f && v < 65535.f) v = std::min(60000.f, v * 1.1f + 7300.f);
      }
    for (auto& plane : after) c.planes.push_back(std::move(plane));
    // Pixel 0: vegetation before (kClearDn), bare after (NIR down to red): class "loss".
    c.planes[kFusedPlanes + static_cast<int>(pixel::Band::nir)][0] = 10600.f;
    if (name == "change_gated") {
      // reclaim change's default: the magnitude's standardisation and Otsu threshold from the
      // host reads (as the CLI does them), then the gated rules and the magnitude plane.
      MemoryTileSource const source(c.grid, c.planes);
      std::vector<TileWindow> const whole{{0, 0, 0, static_cast<std::int32_t>(c.grid.width),
                                           static_cast<std::int32_t>(c.grid.height)}};
      p.vector = standardisation_from(band_moments(source, whole, p, 1), shared_bands(p));
      auto const histogram = magnitude_histogram(source, whole, p, 1);
      auto const t = histogram_threshold(histogram.counts, kMagnitudeBinWidth, ThresholdMethod::otsu);
      p.rules = pixel::default_gated_rules({}, t.value_or(1.0));
      p.write_magnitude = 1;
      c.pass = p;
    }
    products = {class_product("change_class", 0),
                value_product("dndvi", 1, true, -2.0, 2.0 + 1e-9),
                value_product("ndvi_before", 2, true, -1.0, 1.0 + 1e-9),
                value_product("ndvi_after", 6, true, -1.0, 1.0 + 1e-9),
                threshold_product("vegetated_before", 2, 0.3),
                threshold_product("vegetated_after", 6, 0.3)};
  } else if (name == "trend") {
    // 7 epochs of red, NIR and SCL; NDVI per epoch, then every trend product.
    TrendPass p;
    p.epoch.calibration[2] = p.epoch.calibration[3] = [] {
      pixel::BandCalibration cal;
      cal.dn_offset = -1000.0;
      cal.scale = 1e-4;
      cal.nodata = 0.f;
      cal.has_nodata = true;
      return cal;
    }();
    p.epoch.band_plane[static_cast<int>(pixel::Band::red)] = 0;
    p.epoch.band_plane[static_cast<int>(pixel::Band::nir)] = 1;
    p.epoch.mask_plane = 2;
    for (std::uint32_t v : {3u, 8u, 9u, 10u}) p.epoch.mask.add_class(v);
    p.epoch.input_plane_count = 3;
    p.epoch.outputs[p.epoch.output_count++] = Index::ndvi;
    p.planes_per_epoch = 3;
    std::mt19937 rng(51);
    p.trend = trend_all_outputs(7, rng);
    c.pass = p;
    // NDVI series as trend_random_planes draws them (pixel 0 the designed recovery), turned into
    // red/NIR DNs: red 2000 (0.1 reflectance), NIR from NDVI; NaN/inf epochs become clouds.
    auto const ndvi = trend_random_planes(p.trend, static_cast<std::size_t>(n), rng);
    std::uniform_int_distribution<int> scl(0, 11);
    for (int e = 0; e < 7; ++e) {
      std::vector<float> red(static_cast<std::size_t>(n)), nir(red.size()), q(red.size());
      for (std::size_t i = 0; i < red.size(); ++i) {
        float const v = ndvi[static_cast<std::size_t>(e) * red.size() + i];
        int s = scl(rng);
        if (s == 3 || s == 8 || s == 9 || s == 10) s = 4;  // clouds only where the series has a gap
        red[i] = 2000.f;
        if (std::isfinite(v) && v > -0.9f && v < 0.9f) {
          // NDVI = (n - r) / (n + r) with r = 0.1: n = 0.1 (1 + v) / (1 - v).
          nir[i] = std::round(1000.f + 1e4f * 0.1f * (1.f + v) / (1.f - v));
          q[i] = static_cast<float>(s);
        } else {
          nir[i] = 5000.f;
          q[i] = 9.f;  // cloud
        }
      }
      c.planes.push_back(std::move(red));
      c.planes.push_back(std::move(nir));
      c.planes.push_back(std::move(q));
    }
    products = {value_product("slope", 0, true, -0.2, 0.2), value_product("n_valid", 4, false, 0.0, 1.0),
                threshold_product("recovered_by_mid_series", 5, p.trend.years[3])};
  } else if (name == "band_values" || name == "band_classes") {
    bool const classes = name == "band_classes";
    pixel::BandParams p;
    p.calibration.nodata = -9999.f;
    p.calibration.has_nodata = true;
    c.pass = p;
    std::mt19937 rng(classes ? 61 : 62);
    std::uniform_real_distribution<float> value(-1.5f, 1.5f);
    std::uniform_int_distribution<int> cls(0, 12), pct(0, 99);
    std::vector<float> band(static_cast<std::size_t>(n));
    for (auto& v : band) {
      int const roll = pct(rng);
      v = roll < 3 ? -9999.f : roll == 3 ? std::nanf("") : classes ? (roll == 4 ? 255.f : static_cast<float>(cls(rng))) : value(rng);
    }
    band[0] = classes ? 7.f : 0.25f;
    band[1] = -9999.f;
    c.planes = {std::move(band)};
    products = {classes ? class_product("landcover", 0) : value_product("band", 0, true, -1.0, 1.0)};
  } else {
    throw std::invalid_argument("no pipeline case " + name);
  }
  if (name.starts_with("band_")) {
    // zonal --raster: one block per tile, only the tiles some zone's box meets.
    c.plan = pipeline_plan(c.grid, c.pass, std::int64_t{c.grid.block_width} * c.grid.block_height);
    std::erase_if(c.plan.tiles, [&](TileWindow const& t) {
      auto const box = window_bounds(c.grid, t);
      return std::none_of(zones.begin(), zones.end(),
                          [&](Zone const& z) { return !z.parts.empty() && overlaps(z.bbox, box); });
    });
  } else {
    c.plan = pipeline_plan(c.grid, c.pass);
  }
  c.zonal = make_zonal_work(c.grid, c.plan.tiles, zones, CoverageMode::exact, /*geographic=*/false,
                            std::move(products), 2);
  return c;
}

struct PipelineOutput {
  std::vector<std::vector<float>> planes;
  RunStats stats;
};

inline PipelineOutput run_case(PipelineCase const& c, Backend& backend, int readers = 2) {
  MemoryTileSource source(c.grid, c.planes);
  int const out_planes = output_plane_count(c.pass);
  MemoryTileSink sink(c.grid, out_planes);
  SchedulerOptions opt;
  opt.reader_threads = readers;
  opt.zonal = c.has_zonal() ? &c.zonal : nullptr;
  PipelineOutput out;
  out.stats = run_pipeline(source, sink, backend, c.pass, c.plan, opt);
  for (int k = 0; k < out_planes; ++k) out.planes.push_back(sink.plane(k));
  return out;
}

/// 1 for the pixels inside the plan's tiles (the others are never computed).
inline std::vector<char> plan_mask(PipelineCase const& c) {
  std::vector<char> in(static_cast<std::size_t>(c.grid.pixel_count()), 0);
  for (auto const& t : c.plan.tiles)
    for (std::int64_t y = t.y0; y < t.y0 + t.height; ++y)
      std::fill_n(in.begin() + y * c.grid.width + t.x0, t.width, char{1});
  return in;
}

/// run_pass_cpu over the whole raster at once: no tiles, no scheduler, no backend.
inline std::vector<std::vector<float>> whole_raster_reference(PipelineCase const& c) {
  auto const n = static_cast<std::size_t>(c.grid.pixel_count());
  std::vector<float> in = plane_major(c.planes);
  int const out_planes = output_plane_count(c.pass);
  std::vector<float> out(n * static_cast<std::size_t>(out_planes));
  run_pass_cpu(c.pass, in.data(), out.data(), n);
  std::vector<std::vector<float>> planes;
  for (int k = 0; k < out_planes; ++k)
    planes.emplace_back(out.begin() + static_cast<std::ptrdiff_t>(k * n), out.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
  return planes;
}

/// Pixels of `a` and `b` (inside the plan) that differ: bits, or NaN-ness.
inline std::size_t plane_mismatches(std::vector<float> const& a, std::vector<float> const& b,
                                    std::vector<char> const& mask, std::string* first = nullptr) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!mask[i]) continue;
    bool const same = std::isnan(a[i]) ? std::isnan(b[i]) : std::memcmp(&a[i], &b[i], sizeof(float)) == 0;
    if (!same && bad++ == 0 && first)
      *first = "pixel " + std::to_string(i) + ": " + std::to_string(a[i]) + " vs " + std::to_string(b[i]);
  }
  return bad;
}

/** @brief The CPU backend's run of a case compares real values: more than one tile, with
 * ragged edges; every output plane finite somewhere in the plan, some output NaN; and with
 * zonal work, every product accumulated over some zone, a zone spread over several tiles, and
 * (threshold products) both classes seen. */
inline ::testing::AssertionResult case_non_vacuous(PipelineCase const& c, PipelineOutput const& cpu) {
  if (c.plan.tiles.size() < 4) return ::testing::AssertionFailure() << "only " << c.plan.tiles.size() << " tiles";
  bool ragged = false;
  for (auto const& t : c.plan.tiles) ragged |= t.width != c.plan.tile_width || t.height != c.plan.tile_height;
  if (!ragged) return ::testing::AssertionFailure() << "no ragged edge tile";
  auto const mask = plan_mask(c);
  std::size_t nan = 0;
  for (std::size_t k = 0; k < cpu.planes.size(); ++k) {
    std::size_t finite = 0;
    for (std::size_t i = 0; i < mask.size(); ++i)
      if (mask[i]) {
        finite += std::isfinite(cpu.planes[k][i]);
        nan += std::isnan(cpu.planes[k][i]);
      }
    if (finite == 0) return ::testing::AssertionFailure() << "output plane " << k << " has no finite value";
  }
  if (nan == 0) return ::testing::AssertionFailure() << "no NaN in any output plane: the nodata path is not compared";
  if (!c.has_zonal()) return ::testing::AssertionSuccess();
  std::size_t spread = 0;  // tiles holding items of zone 0
  for (auto const& t : c.zonal.tiles)
    spread += std::any_of(t.items.begin(), t.items.end(), [](pixel::ZonalItem const& it) { return it.zone == 0; });
  if (spread < 4) return ::testing::AssertionFailure() << "zone 0 lies in " << spread << " tiles only";
  auto const& acc = cpu.stats.zonal;
  if (acc.size() != c.zonal.products.size())
    return ::testing::AssertionFailure() << acc.size() << " zonal results for " << c.zonal.products.size() << " products";
  for (std::size_t p = 0; p < acc.size(); ++p) {
    auto const& product = c.zonal.products[p];
    std::size_t used = 0;
    for (std::size_t z = 0; z < c.zonal.zone_count; ++z)
      used += product.categorical ? acc[p].classes[z].total_quanta() > 0 : acc[p].values[z].m_pixels > 0;
    if (used < 3) return ::testing::AssertionFailure() << "product " << product.name << ": " << used << " zones with data";
    if (product.threshold) {
      std::uint64_t below = 0, above = 0;
      for (auto const& cl : acc[p].classes) {
        below += cl.m_w[1];
        above += cl.m_w[2];
      }
      if (below == 0 || above == 0)
        return ::testing::AssertionFailure() << "threshold product " << product.name << ": class 1 " << below
                                             << ", class 2 " << above;
    }
  }
  return ::testing::AssertionSuccess();
}

/** @brief The per-zone results of two runs agree: the exact fields (weights, sums, counts,
 * min/max, areas, histogram bins, class weights) to the bit, M2 to 1e-12 relative (it follows
 * the grouping of the merges, see pixel/zonal.hpp). */
inline ::testing::AssertionResult zonal_match(std::vector<ProductAccumulators> const& a,
                                              std::vector<ProductAccumulators> const& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " products";
  for (std::size_t p = 0; p < a.size(); ++p) {
    auto const& x = a[p];
    auto const& y = b[p];
    if (x.values.size() != y.values.size() || x.areas.size() != y.areas.size() ||
        x.histograms.size() != y.histograms.size() || x.classes.size() != y.classes.size())
      return ::testing::AssertionFailure() << "product " << p << ": accumulator counts differ";
    for (std::size_t z = 0; z < x.values.size(); ++z) {
      auto const& u = x.values[z];
      auto const& v = y.values[z];
      bool const exact = u.m_weight == v.m_weight && u.m_nodata_weight == v.m_nodata_weight && u.m_sum == v.m_sum &&
                         u.m_pixels == v.m_pixels && u.m_nodata_pixels == v.m_nodata_pixels &&
                         std::memcmp(&u.m_min, &v.m_min, sizeof u.m_min) == 0 &&
                         std::memcmp(&u.m_max, &v.m_max, sizeof u.m_max) == 0;
      bool const m2 = u.m_sum2 == v.m_sum2;
      if (!exact || !m2)
        return ::testing::AssertionFailure() << "product " << p << " zone " << z << ": weight " << u.weight() << " / "
                                             << v.weight() << ", sum " << u.sum() << " / " << v.sum() << ", pixels "
                                             << u.m_pixels << " / " << v.m_pixels << ", variance " << u.variance() << " / " << v.variance();
    }
    for (std::size_t z = 0; z < x.areas.size(); ++z)
      if (!(x.areas[z].area_m2 == y.areas[z].area_m2) || !(x.areas[z].valid_area_m2 == y.areas[z].valid_area_m2))
        return ::testing::AssertionFailure() << "product " << p << " zone " << z << ": areas differ";
    for (std::size_t z = 0; z < x.histograms.size(); ++z) {
      auto const& u = x.histograms[z];
      auto const& v = y.histograms[z];
      if (u.m_under != v.m_under || u.m_over != v.m_over || std::memcmp(u.m_bin, v.m_bin, sizeof u.m_bin) != 0)
        return ::testing::AssertionFailure() << "product " << p << " zone " << z << ": histograms differ";
    }
    for (std::size_t z = 0; z < x.classes.size(); ++z)
      if (x.classes[z].m_invalid != y.classes[z].m_invalid ||
          std::memcmp(x.classes[z].m_w, y.classes[z].m_w, sizeof x.classes[z].m_w) != 0)
        return ::testing::AssertionFailure() << "product " << p << " zone " << z << ": class weights differ";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace reclaim::test::pipeline
