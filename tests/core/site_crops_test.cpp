// SiteCropObserver: tiles delivered in random order from two threads; every crop must equal the
// window of the full planes sampled every `step` pixels, computed here straight from the pixel
// function, and be handed over exactly once, when its last tile has been seen.
#include "reclaim/site_crops.hpp"

#include "reclaim/pixel/per_pixel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

using reclaim::Crop;
using reclaim::CropRequest;
using reclaim::CropSource;
using reclaim::SiteCropObserver;
using reclaim::TileWindow;

constexpr std::int32_t kW = 203, kH = 157;  // not multiples of the tile size: ragged tiles
constexpr int kPlanes = 3;

float pixel(int plane, std::int64_t x, std::int64_t y) {
  return static_cast<float>(plane * 100000 + y * 1000 + x);  // exact in float, unique per pixel
}

std::vector<TileWindow> tiles_of(std::int32_t tw, std::int32_t th) {
  std::vector<TileWindow> tiles;
  for (std::int64_t y = 0; y < kH; y += th)
    for (std::int64_t x = 0; x < kW; x += tw)
      tiles.push_back({static_cast<std::int64_t>(tiles.size()), x, y,
                       static_cast<std::int32_t>(std::min<std::int64_t>(tw, kW - x)),
                       static_cast<std::int32_t>(std::min<std::int64_t>(th, kH - y))});
  return tiles;
}

std::vector<float> tile_planes(TileWindow const& w) {
  std::vector<float> p(kPlanes * w.pixel_count());
  for (int k = 0; k < kPlanes; ++k)
    for (std::int32_t r = 0; r < w.height; ++r)
      for (std::int32_t c = 0; c < w.width; ++c)
        p[static_cast<std::size_t>(k) * w.pixel_count() + static_cast<std::size_t>(r) * w.width + c] =
            pixel(k, w.x0 + c, w.y0 + r);
  return p;
}

std::vector<CropSource> outputs(std::vector<int> const& planes) {
  std::vector<CropSource> sources;
  for (int p : planes) sources.push_back(CropSource::output(p));
  return sources;
}

struct Collected {
  std::mutex mutex;
  std::map<std::size_t, Crop> crops;
  std::map<std::size_t, int> calls;
};

/// Delivers `tiles` (shuffled with `seed`) to the observer from two threads.
void deliver(SiteCropObserver& obs, std::vector<TileWindow> tiles, unsigned seed, std::size_t skip_last = 0) {
  std::shuffle(tiles.begin(), tiles.end(), std::mt19937(seed));
  tiles.resize(tiles.size() - skip_last);
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next++) < tiles.size();) {
      auto const planes = tile_planes(tiles[i]);  // the same values serve as input planes
      obs.observe(tiles[i], planes.data(), kPlanes, planes.data(), kPlanes);
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
}

void expect_crop(Crop const& crop, CropRequest const& req, std::vector<int> const& planes) {
  EXPECT_EQ(crop.window.x0, req.window.x0);
  EXPECT_EQ(crop.window.y0, req.window.y0);
  EXPECT_EQ(crop.step, req.step);
  std::int32_t const want_w = (req.window.width + req.step - 1) / req.step;
  std::int32_t const want_h = (req.window.height + req.step - 1) / req.step;
  ASSERT_EQ(crop.width, want_w);
  ASSERT_EQ(crop.height, want_h);
  ASSERT_EQ(crop.planes.size(), planes.size());
  for (std::size_t k = 0; k < planes.size(); ++k) {
    ASSERT_EQ(crop.planes[k].size(), static_cast<std::size_t>(want_w) * want_h);
    int bad = 0;
    for (std::int32_t j = 0; j < want_h; ++j)
      for (std::int32_t i = 0; i < want_w; ++i) {
        float const want = pixel(planes[k], req.window.x0 + static_cast<std::int64_t>(i) * req.step,
                                 req.window.y0 + static_cast<std::int64_t>(j) * req.step);
        float const got = crop.planes[k][static_cast<std::size_t>(j) * want_w + i];
        if (got != want && bad++ < 5)
          ADD_FAILURE() << "plane " << planes[k] << " sample (" << i << ", " << j << "): " << got << " != " << want;
      }
  }
}

TEST(CropRequest, SmallestStepThatFits) {
  // 100 x 40 into 32: ceil(100 / 32) = 4 -> 25 x 10 samples.
  auto r = reclaim::crop_request({0, 5, 6, 100, 40}, 32);
  EXPECT_EQ(r.step, 4);
  EXPECT_EQ(r.window.x0, 5);
  EXPECT_EQ(r.window.width, 100);
  EXPECT_EQ(reclaim::crop_request({0, 0, 0, 32, 10}, 32).step, 1);
  EXPECT_EQ(reclaim::crop_request({0, 0, 0, 33, 10}, 32).step, 2);
  EXPECT_EQ(reclaim::crop_request({0, 0, 0, 10, 97}, 32).step, 4);  // the longer side decides
}

TEST(SiteCropObserver, CropsEqualTheirWindowOfTheFullPlanes) {
  auto const tiles = tiles_of(32, 24);
  std::vector<CropRequest> requests{
      {{0, 3, 4, 10, 8}, 1},                       // inside tile (0, 0)
      {{0, 20, 15, 70, 50}, 1},                    // across several tiles
      reclaim::crop_request({0, 11, 9, 150, 120}, 32),  // decimated: step 5
      {{0, kW - 17, kH - 13, 17, 13}, 1},          // the bottom-right corner (ragged tiles)
      {{0, kW - 40, 0, 40, kH}, 3},                // a whole-height strip at the right edge, step 3
      {{0, 0, 0, kW, kH}, 7},                      // the whole raster
  };
  ASSERT_EQ(requests[2].step, 5);
  std::vector<int> const planes{2, 0};  // captured out of order
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    Collected got;
    SiteCropObserver obs(tiles, requests, outputs(planes), [&](std::size_t c, Crop&& crop) {
      std::lock_guard lock(got.mutex);
      ++got.calls[c];
      got.crops[c] = std::move(crop);
    });
    deliver(obs, tiles, seed);
    EXPECT_EQ(obs.pending(), 0u);
    ASSERT_EQ(got.crops.size(), requests.size());
    for (std::size_t c = 0; c < requests.size(); ++c) {
      SCOPED_TRACE("crop " + std::to_string(c));
      EXPECT_EQ(got.calls[c], 1);
      expect_crop(got.crops[c], requests[c], planes);
    }
  }
}

TEST(SiteCropObserver, StepLargerThanATile) {
  // step 40 > tile side 16: most tiles hold no sample, yet each crop still completes once.
  auto const tiles = tiles_of(16, 16);
  std::vector<CropRequest> requests{{{0, 5, 7, 190, 140}, 40}};
  Collected got;
  SiteCropObserver obs(tiles, requests, outputs({1}), [&](std::size_t c, Crop&& crop) {
    std::lock_guard lock(got.mutex);
    ++got.calls[c];
    got.crops[c] = std::move(crop);
  });
  deliver(obs, tiles, 9u);
  ASSERT_EQ(got.calls[0], 1);
  EXPECT_EQ(got.crops[0].width, 5);   // ceil(190 / 40)
  EXPECT_EQ(got.crops[0].height, 4);  // ceil(140 / 40)
  expect_crop(got.crops[0], requests[0], {1});
}

TEST(SiteCropObserver, IncompletePassLeavesCropsPending) {
  auto const tiles = tiles_of(32, 24);
  std::vector<CropRequest> requests{{{0, 0, 0, kW, kH}, 4}, {{0, 0, 0, 5, 5}, 1}};
  std::atomic<int> calls{0};
  SiteCropObserver obs(tiles, requests, outputs({0}), [&](std::size_t, Crop&&) { ++calls; });
  deliver(obs, tiles, 5u, 1);  // one tile never arrives
  // The whole-raster crop needs every tile; the small one completes unless its only tile was the
  // missing one.
  EXPECT_GE(obs.pending(), 1u);
  EXPECT_EQ(static_cast<std::size_t>(calls.load()) + obs.pending(), requests.size());
}

// A computed plane (true colour in the pictures) is the value the fused pass writes for that
// index, bit for bit, at each sample: compared with compute_pixel over the whole tile, with
// masked pixels (NaN) and nodata among the samples.
TEST(SiteCropObserver, ComputedPlanesAreThePassValuesAtTheSamples) {
  namespace px = reclaim::pixel;
  px::FusedParams epoch;
  for (auto& c : epoch.calibration) {
    c.scale = 1e-4;
    c.has_nodata = true;  // DN 0 is nodata
  }
  epoch.band_plane[static_cast<int>(px::Band::red)] = 0;
  epoch.band_plane[static_cast<int>(px::Band::nir)] = 1;
  epoch.mask_plane = 2;
  epoch.mask.add_class(9);
  epoch.input_plane_count = 3;
  px::FusedParams pass = epoch;  // the pass: red and NDVI as output planes
  pass.outputs[0] = px::Index::red;
  pass.outputs[1] = px::Index::ndvi;
  pass.output_count = 2;
  auto dn = [](int plane, std::int64_t x, std::int64_t y) -> float {
    if (plane == 2) return (x * 7 + y * 3) % 11 == 0 ? 9.f : 4.f;  // some pixels masked
    return static_cast<float>((x * 37 + y * 101 + plane * 997) % 9000);  // 0 (nodata) now and then
  };
  auto const tiles = tiles_of(32, 24);
  std::vector<CropRequest> const requests{{{0, 20, 15, 70, 50}, 1}, {{0, 0, 0, kW, kH}, 3}};
  Collected got;
  SiteCropObserver obs(tiles, requests,
                       {CropSource::computed(epoch, px::Index::red), CropSource::computed(epoch, px::Index::ndvi)},
                       [&](std::size_t c, Crop&& crop) {
                         std::lock_guard lock(got.mutex);
                         got.crops[c] = std::move(crop);
                       });
  for (auto const& t : tiles) {
    std::size_t const n = t.pixel_count();
    std::vector<float> in(3 * n), out(2 * n);
    for (int k = 0; k < 3; ++k)
      for (std::int32_t r = 0; r < t.height; ++r)
        for (std::int32_t c = 0; c < t.width; ++c)
          in[k * n + static_cast<std::size_t>(r) * t.width + c] = dn(k, t.x0 + c, t.y0 + r);
    px::for_each_pixel(n, px::FusedPixel{&pass, in.data(), out.data(), n, n});
    obs.observe(t, out.data(), 0, in.data(), 3);  // no output plane is captured
  }
  ASSERT_EQ(got.crops.size(), requests.size());
  std::size_t nan = 0, finite = 0;
  for (std::size_t c = 0; c < requests.size(); ++c) {
    auto const& crop = got.crops[c];
    auto const& req = requests[c];
    for (std::int32_t j = 0; j < crop.height; ++j)
      for (std::int32_t i = 0; i < crop.width; ++i) {
        std::int64_t const x = req.window.x0 + i * req.step, y = req.window.y0 + j * req.step;
        // The pass's value at (x, y), from a one-pixel tile of its inputs.
        float in1[3] = {dn(0, x, y), dn(1, x, y), dn(2, x, y)}, want[2];
        px::compute_pixel(pass, in1, want, 1, 1, 0);
        for (int k = 0; k < 2; ++k) {
          float const have = crop.planes[static_cast<std::size_t>(k)][static_cast<std::size_t>(j) * crop.width + i];
          ASSERT_EQ(std::memcmp(&have, &want[k], sizeof have), 0) << "crop " << c << " plane " << k << " at " << x << "," << y;
          (std::isnan(have) ? nan : finite) += 1;
        }
      }
  }
  EXPECT_GT(nan, 10u);  // masked and nodata samples are among them
  EXPECT_GT(finite, 1000u);
}

}  // namespace
