// The CUDA backend's worker against the CPU backend's (the reference): the same tiles and the
// same zonal work through both BackendWorkers. Outputs must be bit-identical; the zonal
// accumulators, accumulated on the device from the output planes before the copy back, must
// match the CPU worker's as tests/kernels/zonal_parity_test.cu defines it (every exact field,
// bin and class weight equal, the variance too). Also: a worker refuses bad tiles before
// queuing anything and stays usable, and RECLAIM_CHECK_KERNEL takes (clears) the last error.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/cuda/cuda_raii.hpp"
#include "reclaim/backend.hpp"
#include "reclaim/cuda_backend.hpp"
#include "reclaim/error.hpp"
#include "reclaim/zonal_work.hpp"

namespace {

using namespace reclaim;

class CudaWorker : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device: CUDA worker tests skipped";
  }
};

constexpr int kZones = 7;

// Three ragged tiles (several zonal chunks each), items sorted by zone: whole spans and edge
// pixels with fractions, some zones absent from a tile, one tile without items.
struct Fixture {
  std::vector<TileWindow> windows;
  std::vector<std::vector<float>> planes;  // one input plane per tile (the band pass)
  ZonalWork work;
};

Fixture make_fixture() {
  Fixture f;
  std::mt19937 rng(20240613);
  std::uniform_real_distribution<float> value(-1.2f, 1.2f);
  std::uniform_real_distribution<double> frac(0.01, 1.0);
  int const sizes[][2] = {{300, 70}, {257, 33}, {64, 5}};
  for (int t = 0; t < 3; ++t) {
    TileWindow w;
    w.id = t;
    w.width = sizes[t][0];
    w.height = sizes[t][1];
    f.windows.push_back(w);
    std::vector<float> plane(w.pixel_count());
    for (auto& v : plane) v = rng() % 13 == 0 ? std::numeric_limits<float>::quiet_NaN() : value(rng);
    f.planes.push_back(plane);

    TileZonalItems items;
    if (t != 2) {
      for (int z = 0; z < kZones; ++z) {
        if ((z + t) % 4 == 3) continue;  // this zone misses this tile
        for (int r = z % 3; r < w.height; r += 2) {
          int const a = static_cast<int>(rng() % static_cast<unsigned>(w.width / 2));
          int const e = a + 1 + static_cast<int>(rng() % static_cast<unsigned>(w.width / 2));
          items.items.push_back({z, r, a, e, 1.0});
          items.items.push_back({z, r, e, e + 1 < w.width ? e + 1 : e, frac(rng)});  // edge pixel (maybe empty)
        }
      }
      for (int r = 0; r < w.height; ++r) {
        items.row_m2.push_back(100.0 + 0.37 * r);  // a geographic-like varying cell area
        items.row_units.push_back(1.0 + 0.0037 * r);
      }
    }
    f.work.tiles.push_back(items);
  }
  f.work.zone_count = kZones;
  f.work.class_unit_m2 = 100.0;
  ZonalProduct v;
  v.name = "v";
  v.histograms = true;
  ZonalProduct veg;
  veg.name = "veg";
  veg.categorical = true;
  veg.threshold = 0.3;
  ZonalProduct cls;
  cls.name = "cls";
  cls.categorical = true;
  ZonalProduct plain;
  plain.name = "plain";
  f.work.products = {v, veg, cls, plain};
  return f;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<ProductAccumulators> run_worker(Backend& backend, Fixture const& f, PixelPass const& pass,
                                            std::vector<std::vector<float>>& outputs) {
  std::size_t max = 0;
  for (auto const& w : f.windows) max = std::max(max, w.pixel_count());
  auto worker = backend.make_worker(max, max, &f.work);
  HostBuffer in = backend.allocate_host(max), out = backend.allocate_host(max);
  outputs.clear();
  for (std::size_t t = 0; t < f.windows.size(); ++t) {
    std::copy(f.planes[t].begin(), f.planes[t].end(), in.data());
    worker->run(pass, TileJob{in.data(), out.data(), f.windows[t], t});
    outputs.emplace_back(out.data(), out.data() + f.windows[t].pixel_count());
  }
  return worker->zonal_results();
}

TEST_F(CudaWorker, DeviceZonalMatchesTheCpuWorker) {
  Fixture const f = make_fixture();
  pixel::BandParams band;
  band.calibration.nodata = 1.0f;  // no DN is exactly 1: calibration only
  PixelPass const pass{band};

  CpuBackend cpu(1);
  auto gpu = make_cuda_backend(0, 1);
  std::vector<std::vector<float>> cpu_out, gpu_out;
  auto const ref = run_worker(cpu, f, pass, cpu_out);
  auto const got = run_worker(*gpu, f, pass, gpu_out);

  ASSERT_EQ(cpu_out.size(), gpu_out.size());
  for (std::size_t t = 0; t < cpu_out.size(); ++t)
    for (std::size_t i = 0; i < cpu_out[t].size(); ++i)
      ASSERT_TRUE(same_bits(cpu_out[t][i], gpu_out[t][i])) << "tile " << t << " pixel " << i;

  ASSERT_EQ(ref.size(), got.size());
  std::size_t nonempty = 0;
  for (std::size_t p = 0; p < ref.size(); ++p) {
    auto const& a = ref[p];
    auto const& b = got[p];
    std::string const what = f.work.products[p].name;
    ASSERT_EQ(a.values.size(), b.values.size()) << what;
    ASSERT_EQ(a.histograms.size(), b.histograms.size()) << what;
    ASSERT_EQ(a.classes.size(), b.classes.size()) << what;
    for (std::size_t z = 0; z < a.values.size(); ++z) {
      auto const& x = a.values[z];
      auto const& y = b.values[z];
      EXPECT_TRUE(x.m_weight == y.m_weight && x.m_nodata_weight == y.m_nodata_weight && x.m_sum == y.m_sum &&
                  x.m_pixels == y.m_pixels && x.m_nodata_pixels == y.m_nodata_pixels && same_bits(x.m_min, y.m_min) &&
                  same_bits(x.m_max, y.m_max))
          << what << " zone " << z;
      EXPECT_TRUE(x.m_sum2 == y.m_sum2 && same_bits(x.variance(), y.variance())) << what << " zone " << z;
      EXPECT_TRUE(a.areas[z].area_m2 == b.areas[z].area_m2) << what << " zone " << z;
      EXPECT_TRUE(a.areas[z].valid_area_m2 == b.areas[z].valid_area_m2) << what << " zone " << z;
      if (x.m_pixels > 0) ++nonempty;
    }
    for (std::size_t z = 0; z < a.histograms.size(); ++z) {
      auto const& x = a.histograms[z];
      auto const& y = b.histograms[z];
      EXPECT_TRUE(x.m_under == y.m_under && x.m_over == y.m_over && std::memcmp(x.m_bin, y.m_bin, sizeof x.m_bin) == 0)
          << what << " zone " << z;
    }
    for (std::size_t z = 0; z < a.classes.size(); ++z)
      EXPECT_TRUE(a.classes[z].m_invalid == b.classes[z].m_invalid &&
                  std::memcmp(a.classes[z].m_w, b.classes[z].m_w, sizeof a.classes[z].m_w) == 0)
          << what << " zone " << z;
    EXPECT_EQ(a.class_unit_m2, b.class_unit_m2) << what;
  }
  EXPECT_GT(nonempty, 2u * (kZones - 2));  // the comparison is not vacuous: value products saw pixels
  // The class products saw both threshold classes and invalid (negative) raw classes.
  EXPECT_GT(ref[1].classes[0].weight(1) + ref[1].classes[1].weight(1), 0.0);
  EXPECT_GT(ref[1].classes[0].weight(2) + ref[1].classes[1].weight(2), 0.0);
  EXPECT_GT(ref[2].classes[0].m_invalid + ref[2].classes[1].m_invalid, 0u);
}

TEST_F(CudaWorker, RefusesBadTilesBeforeQueuingAndStaysUsable) {
  auto gpu = make_cuda_backend(0, 1);
  std::size_t const n = 1000;
  auto worker = gpu->make_worker(n, n);
  HostBuffer in = gpu->allocate_host(2 * n), out = gpu->allocate_host(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) in.data()[i] = static_cast<float>(i);
  TileWindow small;
  small.width = 10;
  small.height = 10;
  TileWindow big = small;
  big.width = 200;  // 2000 pixels > 1000 floats
  PixelPass const band{pixel::BandParams{}};
  EXPECT_THROW(worker->run(band, TileJob{in.data(), out.data(), big, 0}), logic_error);

  TrendPass trend;  // two outputs per epoch: the epochs' index planes would overlap
  trend.epoch.band_plane[static_cast<int>(pixel::Band::red)] = 0;
  trend.epoch.band_plane[static_cast<int>(pixel::Band::nir)] = 1;
  trend.epoch.outputs[0] = pixel::Index::ndvi;
  trend.epoch.outputs[1] = pixel::Index::savi;
  trend.epoch.output_count = 2;
  trend.planes_per_epoch = 2;
  trend.trend.epoch_count = 4;
  trend.trend.plane[0] = 0;
  trend.trend.output_count = 1;
  EXPECT_THROW(worker->run(PixelPass{trend}, TileJob{in.data(), out.data(), small, 0}), logic_error);
  trend.epoch.output_count = 1;
  trend.trend.epoch_count = pixel::kMaxEpochs + 1;
  EXPECT_THROW(worker->run(PixelPass{trend}, TileJob{in.data(), out.data(), small, 0}), logic_error);

  // Still usable: the band pass of raw values is the identity.
  worker->run(band, TileJob{in.data(), out.data(), small, 0});
  for (std::size_t i = 0; i < small.pixel_count(); ++i) EXPECT_EQ(out.data()[i], static_cast<float>(i)) << i;
}

TEST_F(CudaWorker, CheckKernelTakesTheLastErrorAndNamesTheKernel) {
  cuda::Stream stream;
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  ASSERT_NE(cudaSetDevice(count + 7), cudaSuccess);  // leaves a (non-sticky) last error
  try {
    RECLAIM_CHECK_KERNEL(stream.get(), "probe_kernel");
    ADD_FAILURE() << "no error reported";
  } catch (cuda_error const& e) {
    EXPECT_NE(std::string(e.what()).find("probe_kernel"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(RECLAIM_CHECK_KERNEL(stream.get(), "probe_kernel"));  // taken, not peeked
  EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
}

}  // namespace
