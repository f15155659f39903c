// The fused per-pixel pass (mask -> reflectance -> indices) on hand-built Sentinel-2 pixels.
//
// DNs are chosen so that the reflectances are round numbers with the L2A BOA offset
// (reflectance = (DN - 1000) / 10000): blue 1500 -> 0.05, green 2000 -> 0.1, red 2000 -> 0.1,
// nir 6000 -> 0.5, swir1 4000 -> 0.3, swir2 3000 -> 0.2. Expected indices are worked from
// these reflectances in the comments. The pass works in double and rounds each index to
// Float32 once, so an output must equal the hand value rounded to float: EXPECT_FLOAT_EQ
// (4 ULP) against static_cast<float>(hand value).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/fused.hpp"

namespace {

using namespace reclaim::pixel;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The Float32 output equals the double hand value rounded to float (within 4 ULP).
#define EXPECT_INDEX(got, expected) EXPECT_FLOAT_EQ((got), static_cast<float>(expected))

// Planes of the hand-built tile: the six bands, then SCL.
enum Plane : int { kBlue, kGreen, kRed, kNir, kSwir1, kSwir2, kScl, kPlaneCount };

FusedParams sentinel2_params(std::initializer_list<Index> outputs) {
  FusedParams p;
  for (int b = 0; b < kBandCount; ++b) {
    BandCalibration& c = p.calibration[b];
    c.dn_offset = -1000.0;
    c.scale = 1e-4;
    c.nodata = 0.f;
    c.has_nodata = true;
    c.saturation = 65535.f;
    c.has_saturation = true;
    p.band_plane[b] = b;  // Band order == Plane order here
  }
  p.mask_plane = kScl;
  for (std::uint32_t v : {3u, 8u, 9u, 10u}) p.mask.add_class(v);
  for (Index i : outputs) p.outputs[p.output_count++] = i;
  p.input_plane_count = kPlaneCount;
  return p;
}

/// A tile of `pixels` pixels, plane-major, every pixel starting as the vegetated reference pixel.
struct Tile {
  explicit Tile(std::size_t n) : pixels(n), in(kPlaneCount * n) {
    for (std::size_t i = 0; i < n; ++i) {
      set(kBlue, i, 1500.f);
      set(kGreen, i, 2000.f);
      set(kRed, i, 2000.f);
      set(kNir, i, 6000.f);
      set(kSwir1, i, 4000.f);
      set(kSwir2, i, 3000.f);
      set(kScl, i, 4.f);  // SCL 4: vegetation
    }
  }
  void set(int plane, std::size_t i, float v) { in[static_cast<std::size_t>(plane) * pixels + i] = v; }
  std::size_t pixels;
  std::vector<float> in;
};

/// Runs compute_pixel over the tile into output planes poisoned with a sentinel, plus one
/// extra poisoned plane that must stay untouched.
std::vector<float> run(FusedParams const& p, Tile const& t) {
  std::vector<float> out(static_cast<std::size_t>(p.output_count + 1) * t.pixels, -12345.f);
  for (std::size_t i = 0; i < t.pixels; ++i) compute_pixel(p, t.in.data(), out.data(), t.pixels, t.pixels, i);
  for (std::size_t i = 0; i < t.pixels; ++i)
    EXPECT_EQ(out[static_cast<std::size_t>(p.output_count) * t.pixels + i], -12345.f) << "wrote past outputs";
  return out;
}

float at(std::vector<float> const& out, std::size_t pixels, int k, std::size_t i) {
  return out[static_cast<std::size_t>(k) * pixels + i];
}

// Reference pixel (blue 0.05, green 0.1, red 0.1, nir 0.5, swir1 0.3, swir2 0.2):
constexpr double kNdvi = 0.4 / 0.6;                   // (0.5 - 0.1) / (0.5 + 0.1) = 0.6666667
constexpr double kEvi = 1.0 / 1.725;                  // 2.5 * 0.4 / (0.5 + 0.6 - 0.375 + 1) = 0.5797101
constexpr double kSavi = 0.6 / 1.1;                   // 1.5 * 0.4 / (0.6 + 0.5) = 0.5454545
constexpr double kNdwi = -0.4 / 0.6;                  // (0.1 - 0.5) / (0.1 + 0.5) = -0.6666667
constexpr double kMndwi = -0.2 / 0.4;                 // (0.1 - 0.3) / (0.1 + 0.3) = -0.5
constexpr double kNbr = 0.3 / 0.7;                    // (0.5 - 0.2) / (0.5 + 0.2) = 0.4285714
constexpr double kNdmi = 0.2 / 0.8;                   // (0.5 - 0.3) / (0.5 + 0.3) = 0.25
constexpr double kBsi = -0.15 / 0.95;                 // (0.4 - 0.55) / (0.4 + 0.55) = -0.1578947
constexpr double kFvc = (0.4 / 0.6 - 0.05) / 0.81;    // (0.6666667 - 0.05) / 0.81 = 0.7613169
double msavi2_ref() { return (2.0 - std::sqrt(0.8)) / 2.0; }  // a = 2, disc = 4 - 3.2 -> 0.5527864

TEST(ComputePixel, EveryIndexOnOnePixel) {
  auto const p = sentinel2_params({Index::ndvi, Index::evi, Index::savi, Index::msavi2, Index::ndwi, Index::mndwi,
                                   Index::nbr, Index::ndmi, Index::bsi, Index::fvc});
  Tile t(1);
  auto const out = run(p, t);
  double const expected[] = {kNdvi, kEvi, kSavi, msavi2_ref(), kNdwi, kMndwi, kNbr, kNdmi, kBsi, kFvc};
  for (int k = 0; k < p.output_count; ++k) EXPECT_INDEX(at(out, 1, k, 0), expected[k]) << "output " << k;
}

TEST(ComputePixel, OutputOrderFollowsRequest) {
  // The same indices in a different order land in the requested planes.
  auto const p = sentinel2_params({Index::fvc, Index::ndvi, Index::bsi});
  Tile t(1);
  auto const out = run(p, t);
  EXPECT_INDEX(at(out, 1, 0, 0), kFvc);
  EXPECT_INDEX(at(out, 1, 1, 0), kNdvi);
  EXPECT_INDEX(at(out, 1, 2, 0), kBsi);
}

TEST(ComputePixel, MaskedPixelGivesAllNaN) {
  auto const p = sentinel2_params({Index::ndvi, Index::evi, Index::ndwi, Index::fvc});
  Tile t(6);
  t.set(kScl, 1, 9.f);   // cloud high probability
  t.set(kScl, 2, 3.f);   // cloud shadow
  t.set(kScl, 3, kNaN);  // quality unknown
  t.set(kScl, 4, 5.f);   // bare soil: not masked
  t.set(kScl, 5, 10.f);  // cirrus
  auto const out = run(p, t);
  for (std::size_t i : {1u, 2u, 3u, 5u})
    for (int k = 0; k < p.output_count; ++k) EXPECT_TRUE(std::isnan(at(out, 6, k, i))) << "pixel " << i;
  for (std::size_t i : {0u, 4u}) {
    EXPECT_INDEX(at(out, 6, 0, i), kNdvi);
    EXPECT_INDEX(at(out, 6, 1, i), kEvi);
    EXPECT_INDEX(at(out, 6, 2, i), kNdwi);
    EXPECT_INDEX(at(out, 6, 3, i), kFvc);
  }
}

TEST(ComputePixel, NodataAndSaturatedBandOnlyAffectIndicesUsingIt) {
  auto const p = sentinel2_params({Index::ndvi, Index::ndwi, Index::mndwi, Index::nbr, Index::bsi});
  Tile t(3);
  t.set(kRed, 1, 0.f);        // red nodata
  t.set(kSwir1, 2, 65535.f);  // swir1 saturated
  auto const out = run(p, t);
  // pixel 1: ndvi and bsi need red -> NaN; ndwi (green, nir), mndwi (green, swir1), nbr valid
  EXPECT_TRUE(std::isnan(at(out, 3, 0, 1)));
  EXPECT_INDEX(at(out, 3, 1, 1), kNdwi);
  EXPECT_INDEX(at(out, 3, 2, 1), kMndwi);
  EXPECT_INDEX(at(out, 3, 3, 1), kNbr);
  EXPECT_TRUE(std::isnan(at(out, 3, 4, 1)));
  // pixel 2: mndwi and bsi need swir1 -> NaN; the rest valid
  EXPECT_INDEX(at(out, 3, 0, 2), kNdvi);
  EXPECT_INDEX(at(out, 3, 1, 2), kNdwi);
  EXPECT_TRUE(std::isnan(at(out, 3, 2, 2)));
  EXPECT_INDEX(at(out, 3, 3, 2), kNbr);
  EXPECT_TRUE(std::isnan(at(out, 3, 4, 2)));
}

TEST(ComputePixel, BandNotReadGivesNaNOnlyWhereNeeded) {
  // swir1 and swir2 not read (plane -1); the tile carries only blue, green, red, nir, SCL.
  auto p = sentinel2_params({Index::ndvi, Index::ndmi, Index::mndwi, Index::bsi, Index::nbr, Index::evi});
  p.band_plane[static_cast<int>(Band::swir1)] = -1;
  p.band_plane[static_cast<int>(Band::swir2)] = -1;
  Tile t(1);
  // Poison the planes that are no longer read: they must not be used.
  t.set(kSwir1, 0, 2000.f);
  t.set(kSwir2, 0, 2000.f);
  auto const out = run(p, t);
  EXPECT_INDEX(at(out, 1, 0, 0), kNdvi);
  EXPECT_TRUE(std::isnan(at(out, 1, 1, 0)));  // ndmi needs swir1
  EXPECT_TRUE(std::isnan(at(out, 1, 2, 0)));  // mndwi needs swir1
  EXPECT_TRUE(std::isnan(at(out, 1, 3, 0)));  // bsi needs swir1
  EXPECT_TRUE(std::isnan(at(out, 1, 4, 0)));  // nbr needs swir2
  EXPECT_INDEX(at(out, 1, 5, 0), kEvi);
}

TEST(ComputePixel, PlanesInAnyOrderAndNoMask) {
  // The tile holds only nir (plane 0) and red (plane 1); no quality plane.
  FusedParams p;
  for (auto& c : p.calibration) c.scale = 1e-4;
  p.band_plane[static_cast<int>(Band::nir)] = 0;
  p.band_plane[static_cast<int>(Band::red)] = 1;
  p.input_plane_count = 2;
  p.outputs[p.output_count++] = Index::ndvi;
  p.outputs[p.output_count++] = Index::savi;
  p.mask.add_class(4);  // no mask plane: the rule must be ignored
  // pixel 0: nir 5000 -> 0.5, red 1000 -> 0.1; pixel 1: nir 4 (would be "class 4") -> 0.0004, red 0 -> 0
  std::vector<float> const in{5000.f, 4.f, 1000.f, 0.f};
  std::vector<float> out(4, -12345.f);
  for (std::size_t i = 0; i < 2; ++i) compute_pixel(p, in.data(), out.data(), 2, 2, i);
  EXPECT_INDEX(out[0], kNdvi);
  // NDVI(0.0004, 0) = 1 exactly (0.0004 / 0.0004)
  EXPECT_FLOAT_EQ(out[1], 1.f);
  EXPECT_INDEX(out[2], kSavi);
  // SAVI(0.0004, 0) = 1.5 * 0.0004 / 0.5004 = 0.0011990408
  EXPECT_INDEX(out[3], 0.0006 / 0.5004);
}

TEST(ComputePixel, IndexParamsAreHonoured) {
  auto p = sentinel2_params({Index::savi, Index::fvc});
  p.index_params.savi_l = 1.0;
  p.index_params.fvc_ndvi_soil = 0.2;
  p.index_params.fvc_ndvi_veg = 0.8;
  Tile t(2);
  // pixel 1: red 4000 -> 0.3: NDVI = 0.2 / 0.8 = 0.25
  t.set(kRed, 1, 4000.f);
  auto const out = run(p, t);
  // SAVI L=1: 2 * 0.4 / 1.6 = 0.5; pixel 1: 2 * 0.2 / 1.8 = 0.2222222
  EXPECT_INDEX(at(out, 2, 0, 0), 0.5);
  EXPECT_INDEX(at(out, 2, 0, 1), 0.4 / 1.8);
  // FVC soil 0.2, veg 0.8: NDVI 0.6666667 -> 0.4666667 / 0.6 = 0.7777778; NDVI 0.25 -> 0.05 / 0.6 = 0.0833333
  EXPECT_INDEX(at(out, 2, 1, 0), (kNdvi - 0.2) / 0.6);
  EXPECT_INDEX(at(out, 2, 1, 1), 0.05 / 0.6);
  // Equal end-members: FVC undefined everywhere
  p.index_params.fvc_ndvi_veg = 0.2;
  auto const out2 = run(p, t);
  EXPECT_TRUE(std::isnan(at(out2, 2, 1, 0)));
  EXPECT_TRUE(std::isnan(at(out2, 2, 1, 1)));
}

TEST(ComputePixel, NoOutputsWritesNothing) {
  auto const p = sentinel2_params({});
  Tile t(3);
  auto const out = run(p, t);  // run() checks the (only) poisoned plane is untouched
  EXPECT_EQ(out.size(), 3u);
}

TEST(BandsNeeded, EveryIndex) {
  auto const bit = [](Band b) { return std::uint32_t{1} << static_cast<int>(b); };
  std::uint32_t const blue = bit(Band::blue), green = bit(Band::green), red = bit(Band::red), nir = bit(Band::nir),
                      swir1 = bit(Band::swir1), swir2 = bit(Band::swir2);
  EXPECT_EQ(bands_needed(Index::ndvi), nir | red);
  EXPECT_EQ(bands_needed(Index::evi), nir | red | blue);
  EXPECT_EQ(bands_needed(Index::savi), nir | red);
  EXPECT_EQ(bands_needed(Index::msavi2), nir | red);
  EXPECT_EQ(bands_needed(Index::ndwi), green | nir);
  EXPECT_EQ(bands_needed(Index::mndwi), green | swir1);
  EXPECT_EQ(bands_needed(Index::nbr), nir | swir2);
  EXPECT_EQ(bands_needed(Index::ndmi), nir | swir1);
  EXPECT_EQ(bands_needed(Index::bsi), blue | red | nir | swir1);
  EXPECT_EQ(bands_needed(Index::fvc), nir | red);
  EXPECT_EQ(band_bit(Band::blue), 1u);
  EXPECT_EQ(band_bit(Band::swir2), 32u);
}

TEST(BandsNeeded, MatchesWhatComputePixelUses) {
  // For each index and each band: dropping a needed band gives NaN, dropping any other
  // band leaves the value unchanged. Ties bands_needed() to the formulas themselves.
  for (int ix = 0; ix < kIndexCount; ++ix) {
    auto const index = static_cast<Index>(ix);
    auto const full = sentinel2_params({index});
    Tile t(1);
    float const reference = run(full, t)[0];
    ASSERT_FALSE(std::isnan(reference)) << "index " << ix;
    for (int b = 0; b < kBandCount; ++b) {
      auto p = full;
      p.band_plane[b] = -1;
      float const v = run(p, t)[0];
      bool const needed = (bands_needed(index) >> b) & 1u;
      if (needed) {
        EXPECT_TRUE(std::isnan(v)) << "index " << ix << " band " << b;
      } else {
        EXPECT_EQ(std::memcmp(&v, &reference, sizeof v), 0) << "index " << ix << " band " << b;
      }
    }
  }
}

}  // namespace
