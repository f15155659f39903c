// run_pipeline against the oracle of one single-threaded run_fused_cpu over the whole
// raster: tiling, reader/worker counts and buffer recycling must not change a single bit.
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/backend.hpp"
#include "reclaim/error.hpp"
#include "reclaim/grid.hpp"
#include "reclaim/scheduler.hpp"
#include "reclaim/tile_source.hpp"

namespace {

using namespace reclaim;
using pixel::Index;

constexpr int kInputPlanes = 7;  // blue, green, red, nir, swir1, swir2, SCL

/// Sentinel-2 L2A parameters requesting every index.
pixel::FusedParams all_indices_params() {
  pixel::FusedParams p;
  for (int b = 0; b < pixel::kBandCount; ++b) {
    auto& c = p.calibration[b];
    c.dn_offset = -1000.0;
    c.scale = 1e-4;
    c.nodata = 0.f;
    c.has_nodata = true;
    c.saturation = 65535.f;
    c.has_saturation = true;
    p.band_plane[b] = b;
  }
  p.mask_plane = 6;
  for (std::uint32_t v : {3u, 8u, 9u, 10u}) p.mask.add_class(v);
  for (int i = 0; i < pixel::kIndexCount; ++i) p.outputs[p.output_count++] = static_cast<Index>(i);
  p.input_plane_count = kInputPlanes;
  return p;
}

/// A stateless (thread-safe) hash -> DN for plane k at (x, y): mostly plausible reflectance
/// DNs, with some nodata (0), saturated (65535) and masked SCL classes mixed in.
float synthetic_dn(int plane, std::int64_t x, std::int64_t y) {
  auto h = static_cast<std::uint64_t>(x) * 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(y) * 0xC2B2AE3D27D4EB4Full ^
           static_cast<std::uint64_t>(plane + 1) * 0x165667B19E3779F9ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  if (plane == 6) return static_cast<float>(h % 12);  // SCL 0..11, 3/8/9/10 masked
  auto const r = h % 1000;
  if (r == 0) return 0.f;       // nodata
  if (r == 1) return 65535.f;   // saturated
  return static_cast<float>(500 + (h >> 12) % 9000);  // reflectance -0.05 .. 0.85
}

Grid grid_of(std::int64_t w, std::int64_t h, std::int32_t block) {
  Grid g;
  g.width = w;
  g.height = h;
  g.block_width = block;
  g.block_height = block;
  return g;
}

/// The oracle: all planes of the whole raster, one run_fused_cpu call, plane stride = w * h.
std::vector<std::vector<float>> whole_raster_reference(Grid const& g, pixel::FusedParams const& p) {
  auto const n = static_cast<std::size_t>(g.pixel_count());
  std::vector<float> in(n * kInputPlanes);
  for (int k = 0; k < kInputPlanes; ++k)
    for (std::int64_t y = 0; y < g.height; ++y)
      for (std::int64_t x = 0; x < g.width; ++x)
        in[static_cast<std::size_t>(k) * n + static_cast<std::size_t>(y * g.width + x)] = synthetic_dn(k, x, y);
  std::vector<float> out(n * static_cast<std::size_t>(p.output_count));
  run_fused_cpu(p, in.data(), out.data(), n);
  std::vector<std::vector<float>> planes;
  for (int k = 0; k < p.output_count; ++k)
    planes.emplace_back(out.begin() + static_cast<std::ptrdiff_t>(k * n),
                        out.begin() + static_cast<std::ptrdiff_t>((k + 1) * n));
  return planes;
}

std::vector<std::vector<float>> input_planes(Grid const& g) {
  std::vector<std::vector<float>> planes(kInputPlanes, std::vector<float>(static_cast<std::size_t>(g.pixel_count())));
  for (int k = 0; k < kInputPlanes; ++k)
    for (std::int64_t y = 0; y < g.height; ++y)
      for (std::int64_t x = 0; x < g.width; ++x)
        planes[static_cast<std::size_t>(k)][static_cast<std::size_t>(y * g.width + x)] = synthetic_dn(k, x, y);
  return planes;
}

/// Bit-identical outside NaN; NaN exactly where the reference has NaN. Reports the first few
/// mismatches only.
void expect_same_planes(std::vector<std::vector<float>> const& expected, MemoryTileSink const& sink, int planes) {
  for (int k = 0; k < planes; ++k) {
    auto const& e = expected[static_cast<std::size_t>(k)];
    auto const& a = sink.plane(k);
    ASSERT_EQ(a.size(), e.size());
    int reported = 0;
    std::size_t mismatches = 0;
    for (std::size_t i = 0; i < e.size(); ++i) {
      bool const same = std::isnan(e[i]) ? std::isnan(a[i]) : std::memcmp(&e[i], &a[i], sizeof(float)) == 0;
      if (!same) {
        ++mismatches;
        if (reported++ < 5) ADD_FAILURE() << "plane " << k << " pixel " << i << ": expected " << e[i] << " got " << a[i];
      }
    }
    EXPECT_EQ(mismatches, 0u) << "plane " << k;
  }
}

/// The raster must not be all-NaN or all-valid, or the comparisons above prove little.
void expect_mixed_nan(std::vector<std::vector<float>> const& ref) {
  std::size_t nan = 0, total = 0;
  for (auto const& p : ref)
    for (float v : p) {
      nan += std::isnan(v);
      ++total;
    }
  EXPECT_GT(nan, 0u);
  EXPECT_LT(nan, total / 2);
}

struct RunConfig {
  std::int64_t width, height;
  std::int32_t block;
  std::size_t budget;
  int readers, workers;
};

RunStats run_synthetic(RunConfig const& c, MemoryTileSink& sink, TilePlan* plan_out = nullptr) {
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = all_indices_params();
  PlanRequest req;
  req.input_planes = kInputPlanes;
  req.output_planes = params.output_count;
  req.memory_budget = c.budget;
  auto const plan = make_plan(g, req);
  if (plan_out) *plan_out = plan;
  SyntheticTileSource source(g, kInputPlanes, synthetic_dn);
  CpuBackend backend(c.workers);
  SchedulerOptions opt;
  opt.reader_threads = c.readers;
  return run_pipeline(source, sink, backend, params, plan, opt);
}

TEST(RunPipeline, ManyTilesTinyBudgetSeveralThreads) {
  // 1 byte budget -> one 64 x 64 block per tile, two slots: 16 x 13 = 208 tiles recycled
  // through two buffers by 4 readers and 3 workers.
  RunConfig const c{1000, 777, 64, 1, 4, 3};
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = all_indices_params();
  auto const ref = whole_raster_reference(g, params);
  expect_mixed_nan(ref);
  MemoryTileSink sink(g, params.output_count);
  TilePlan plan;
  auto const stats = run_synthetic(c, sink, &plan);
  EXPECT_EQ(plan.tiles.size(), 16u * 13u);  // ceil(1000/64) = 16, ceil(777/64) = 13
  EXPECT_EQ(stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(stats.pixels, g.pixel_count());
  EXPECT_EQ(stats.slots, plan.slot_count);
  EXPECT_EQ(stats.host_buffer_bytes, static_cast<std::size_t>(plan.slot_count) * plan.max_tile_pixels() *
                                         (kInputPlanes + params.output_count) * sizeof(float));
  expect_same_planes(ref, sink, params.output_count);
}

TEST(RunPipeline, RasterNotMultipleOfTileSize) {
  // 1000 x 777 with 128 blocks and a 1 MiB budget: 128 x 128 tiles, last column 104 wide,
  // last row 9 high.
  RunConfig const c{1000, 777, 128, std::size_t{1} << 20, 2, 2};
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = all_indices_params();
  MemoryTileSink sink(g, params.output_count);
  TilePlan plan;
  auto const stats = run_synthetic(c, sink, &plan);
  EXPECT_EQ(plan.tile_width, 128);
  EXPECT_EQ(plan.tiles.back().width, 104);
  EXPECT_EQ(plan.tiles.back().height, 9);
  EXPECT_EQ(stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(stats.pixels, 1000 * 777);
  expect_same_planes(whole_raster_reference(g, params), sink, params.output_count);
}

TEST(RunPipeline, LargeTilesSpanningBlocks) {
  // A generous budget: tiles of several blocks, still ragged at the edges.
  RunConfig const c{1000, 777, 128, std::size_t{64} << 20, 3, 2};
  Grid const g = grid_of(c.width, c.height, c.block);
  auto const params = all_indices_params();
  MemoryTileSink sink(g, params.output_count);
  TilePlan plan;
  auto const stats = run_synthetic(c, sink, &plan);
  EXPECT_GT(plan.tile_width, 128);
  EXPECT_EQ(stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(stats.pixels, 1000 * 777);
  expect_same_planes(whole_raster_reference(g, params), sink, params.output_count);
}

TEST(RunPipeline, OnePixelRaster) {
  RunConfig const c{1, 1, 256, std::size_t{512} << 20, 4, 4};
  Grid const g = grid_of(1, 1, 256);
  auto const params = all_indices_params();
  MemoryTileSink sink(g, params.output_count);
  auto const stats = run_synthetic(c, sink);
  EXPECT_EQ(stats.tiles, 1);
  EXPECT_EQ(stats.pixels, 1);
  expect_same_planes(whole_raster_reference(g, params), sink, params.output_count);
}

TEST(RunPipeline, ThreadCountsDoNotChangeResults) {
  Grid const g = grid_of(517, 300, 32);
  auto const params = all_indices_params();
  MemoryTileSink one(g, params.output_count), four(g, params.output_count);
  auto const s1 = run_synthetic({517, 300, 32, std::size_t{1} << 16, 1, 1}, one);
  auto const s4 = run_synthetic({517, 300, 32, std::size_t{1} << 16, 4, 4}, four);
  EXPECT_EQ(s1.tiles, s4.tiles);
  EXPECT_EQ(s1.pixels, s4.pixels);
  for (int k = 0; k < params.output_count; ++k)
    EXPECT_EQ(std::memcmp(one.plane(k).data(), four.plane(k).data(), one.plane(k).size() * sizeof(float)), 0)
        << "plane " << k;
  expect_same_planes(whole_raster_reference(g, params), four, params.output_count);
}

TEST(RunPipeline, MemoryTileSourceMatchesReference) {
  Grid const g = grid_of(300, 211, 64);
  auto const params = all_indices_params();
  MemoryTileSource source(g, input_planes(g));
  MemoryTileSink sink(g, params.output_count);
  PlanRequest req;
  req.input_planes = kInputPlanes;
  req.output_planes = params.output_count;
  req.memory_budget = 1;  // one block per tile
  auto const plan = make_plan(g, req);
  CpuBackend backend(3);
  SchedulerOptions opt;
  opt.reader_threads = 3;
  std::vector<std::int64_t> done;
  std::int64_t last_pixels = 0;
  opt.on_progress = [&](Progress const& p) {  // called from the single writer thread
    done.push_back(p.tiles_done);
    EXPECT_EQ(p.tiles_total, static_cast<std::int64_t>(plan.tiles.size()));
    EXPECT_GT(p.pixels_done, last_pixels);
    last_pixels = p.pixels_done;
  };
  auto const stats = run_pipeline(source, sink, backend, params, plan, opt);
  EXPECT_EQ(stats.tiles, static_cast<std::int64_t>(plan.tiles.size()));
  EXPECT_EQ(stats.pixels, 300 * 211);
  ASSERT_EQ(done.size(), plan.tiles.size());
  for (std::size_t i = 0; i < done.size(); ++i) EXPECT_EQ(done[i], static_cast<std::int64_t>(i + 1));
  EXPECT_EQ(last_pixels, 300 * 211);
  expect_same_planes(whole_raster_reference(g, params), sink, params.output_count);
}

TEST(RunPipeline, FewerOutputsThanIndices) {
  // Only two outputs, and a tile source whose planes are in a different order than the bands.
  Grid const g = grid_of(130, 70, 16);
  pixel::FusedParams p;
  for (auto& c : p.calibration) c.scale = 1e-4;
  p.band_plane[static_cast<int>(pixel::Band::red)] = 1;
  p.band_plane[static_cast<int>(pixel::Band::nir)] = 0;
  p.input_plane_count = 2;
  p.outputs[p.output_count++] = Index::msavi2;
  p.outputs[p.output_count++] = Index::ndvi;
  auto const fn = [](int k, std::int64_t x, std::int64_t y) { return synthetic_dn(k + 2, x, y); };
  SyntheticTileSource source(g, 2, fn);
  PlanRequest req;
  req.input_planes = 2;
  req.output_planes = 2;
  req.memory_budget = 1;
  auto const plan = make_plan(g, req);
  MemoryTileSink sink(g, 2);
  CpuBackend backend(2);
  run_pipeline(source, sink, backend, p, plan, SchedulerOptions{});
  // Oracle computed without the fused driver: reflectance = DN * 1e-4 in double, the index
  // formulas directly, one rounding to float.
  for (std::int64_t y = 0; y < g.height; ++y)
    for (std::int64_t x = 0; x < g.width; ++x) {
      double const nir = static_cast<double>(fn(0, x, y)) * 1e-4, red = static_cast<double>(fn(1, x, y)) * 1e-4;
      auto const m = static_cast<float>(pixel::msavi2(nir, red)), n = static_cast<float>(pixel::ndvi(nir, red));
      auto const i = static_cast<std::size_t>(y * g.width + x);
      EXPECT_EQ(std::memcmp(&m, &sink.plane(0)[i], 4), 0) << x << "," << y;
      EXPECT_EQ(std::memcmp(&n, &sink.plane(1)[i], 4), 0) << x << "," << y;
    }
}

// ---- failures propagate ----------------------------------------------------------------------

/// Wraps a source; its readers throw when asked for tile `bad_tile`.
class ThrowingSource final : public TileSource {
 public:
  ThrowingSource(TileSource const& inner, std::int64_t bad_tile) : m_inner(inner), m_bad(bad_tile) {}
  [[nodiscard]] Grid const& grid() const override { return m_inner.grid(); }
  [[nodiscard]] int plane_count() const override { return m_inner.plane_count(); }
  [[nodiscard]] std::unique_ptr<TileReader> open_reader() const override {
    return std::make_unique<Reader>(m_inner.open_reader(), m_bad);
  }

 private:
  class Reader final : public TileReader {
   public:
    Reader(std::unique_ptr<TileReader> inner, std::int64_t bad) : m_inner(std::move(inner)), m_bad(bad) {}
    void read(TileWindow const& w, float* planes) override {
      if (w.id == m_bad) throw io_error("synthetic read failure on tile " + std::to_string(w.id));
      m_inner->read(w, planes);
    }

   private:
    std::unique_ptr<TileReader> m_inner;
    std::int64_t m_bad;
  };
  TileSource const& m_inner;
  std::int64_t m_bad;
};

class ThrowingSink final : public TileSink {
 public:
  explicit ThrowingSink(int after) : m_after(after) {}
  void write(TileWindow const&, float const*, int) override {
    if (m_writes++ == m_after) throw io_error("synthetic write failure");
  }

 private:
  int m_after;
  int m_writes = 0;
};

/// A backend whose workers fail on the n-th tile they see (across workers).
class ThrowingBackend final : public Backend {
 public:
  explicit ThrowingBackend(int fail_at) : m_fail_at(fail_at) {}
  [[nodiscard]] std::string name() const override { return "throwing"; }
  [[nodiscard]] int worker_count() const override { return 2; }
  [[nodiscard]] std::unique_ptr<BackendWorker> make_worker(std::size_t in, std::size_t out,
                                                           ZonalWork const* zonal) override {
    return std::make_unique<Worker>(m_cpu.make_worker(in, out, zonal), m_count, m_fail_at);
  }
  [[nodiscard]] HostBuffer allocate_host(std::size_t n) override { return m_cpu.allocate_host(n); }

 private:
  class Worker final : public BackendWorker {
   public:
    Worker(std::unique_ptr<BackendWorker> inner, std::atomic<int>& count, int fail_at)
        : m_inner(std::move(inner)), m_count(count), m_fail_at(fail_at) {}
    void run(PixelPass const& p, TileJob const& job) override {
      if (m_count.fetch_add(1) == m_fail_at) throw cuda_error("synthetic device failure");
      m_inner->run(p, job);
    }

   private:
    std::unique_ptr<BackendWorker> m_inner;
    std::atomic<int>& m_count;
    int m_fail_at;
  };
  CpuBackend m_cpu{1};
  std::atomic<int> m_count{0};
  int m_fail_at;
};

struct FailureSetup {
  Grid grid = grid_of(400, 300, 32);
  pixel::FusedParams params = all_indices_params();
  SyntheticTileSource source{grid, kInputPlanes, synthetic_dn};
  TilePlan plan;
  FailureSetup() {
    PlanRequest req;
    req.input_planes = kInputPlanes;
    req.output_planes = params.output_count;
    req.memory_budget = 1;  // 32 x 32 tiles: 13 x 10 = 130 tiles, two slots
    plan = make_plan(grid, req);
  }
};

TEST(RunPipeline, ReaderExceptionPropagates) {
  FailureSetup s;
  ASSERT_GT(s.plan.tiles.size(), 5u);
  ThrowingSource source(s.source, 5);
  MemoryTileSink sink(s.grid, s.params.output_count);
  CpuBackend backend(3);
  SchedulerOptions opt;
  opt.reader_threads = 4;
  try {
    run_pipeline(source, sink, backend, s.params, s.plan, opt);
    FAIL() << "run_pipeline returned despite a reader failure";
  } catch (io_error const& e) {
    EXPECT_NE(std::string(e.what()).find("tile 5"), std::string::npos) << e.what();
  }
}

TEST(RunPipeline, ReaderExceptionOnFirstAndLastTile) {
  FailureSetup s;
  for (std::int64_t bad : {std::int64_t{0}, static_cast<std::int64_t>(s.plan.tiles.size()) - 1}) {
    ThrowingSource source(s.source, bad);
    MemoryTileSink sink(s.grid, s.params.output_count);
    CpuBackend backend(2);
    SchedulerOptions opt;
    opt.reader_threads = 2;
    EXPECT_THROW(run_pipeline(source, sink, backend, s.params, s.plan, opt), io_error) << "tile " << bad;
  }
}

TEST(RunPipeline, SinkExceptionPropagates) {
  FailureSetup s;
  ThrowingSink sink(3);
  CpuBackend backend(2);
  SchedulerOptions opt;
  opt.reader_threads = 3;
  EXPECT_THROW(run_pipeline(s.source, sink, backend, s.params, s.plan, opt), io_error);
}

TEST(RunPipeline, WorkerExceptionPropagates) {
  FailureSetup s;
  MemoryTileSink sink(s.grid, s.params.output_count);
  ThrowingBackend backend(7);
  SchedulerOptions opt;
  opt.reader_threads = 2;
  EXPECT_THROW(run_pipeline(s.source, sink, backend, s.params, s.plan, opt), cuda_error);
}

TEST(RunPipeline, PlaneCountMismatchIsALogicError) {
  FailureSetup s;
  SyntheticTileSource wrong(s.grid, kInputPlanes - 1, synthetic_dn);
  MemoryTileSink sink(s.grid, s.params.output_count);
  CpuBackend backend(1);
  EXPECT_THROW(run_pipeline(wrong, sink, backend, s.params, s.plan, SchedulerOptions{}), logic_error);
}

}  // namespace
