// The index table's band column against what each line's formula actually reads.
//
// The table (reclaim/pixel/index_table.hpp) states the bands of every output by hand, next
// to the call of its formula. Nothing ties the two together at compile time, so this test
// does, without restating the table: at many reflectance vectors it evaluates each output
// with one band set to NaN. The result must go NaN exactly when the table lists that band
// (every formula propagates NaN; a formula that ignores a band cannot be changed by it).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/pixel/index_table.hpp"

namespace {

using namespace reclaim::pixel;

/// Deterministic reflectance vectors in [0.02, 0.62): plausible land, water and soil pixels
/// at which every output is finite.
std::vector<Reflectance> sample_pixels() {
  std::vector<Reflectance> out;
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  auto next = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return 0.02 + 0.6 * static_cast<double>(state >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  };
  for (int k = 0; k < 64; ++k) {
    Reflectance r;
    for (double& v : r.band) v = next();
    out.push_back(r);
  }
  return out;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(IndexTable, BandsAreExactlyTheBandsTheFormulaReads) {
  IndexParams const params;
  auto const pixels = sample_pixels();
  for (auto const& spec : kIndexTable) {
    std::string const name(spec.name);
    for (auto const& r : pixels) {
      double const reference = index_value(spec.id, r, params);
      ASSERT_FALSE(std::isnan(reference)) << name;
      for (int b = 0; b < kBandCount; ++b) {
        Reflectance dropped = r;
        dropped.band[b] = std::nan("");
        double const v = index_value(spec.id, dropped, params);
        bool const listed = (bands_needed(spec.id) & band_bit(static_cast<Band>(b))) != 0;
        if (listed) {
          EXPECT_TRUE(std::isnan(v)) << name << " lists band " << b << " but does not read it";
        } else {
          EXPECT_TRUE(same_bits(v, reference)) << name << " reads band " << b << " but does not list it";
        }
      }
    }
  }
}

TEST(IndexTable, DataAgreesWithTheDerivedFunctions) {
  ASSERT_EQ(static_cast<int>(std::size(kIndexTable)), kOutputKindCount);
  int spectral = 0;
  for (int i = 0; i < kOutputKindCount; ++i) {
    auto const index = static_cast<Index>(i);
    EXPECT_EQ(kIndexTable[i].id, index);
    EXPECT_EQ(&index_spec(index), &kIndexTable[i]);
    EXPECT_EQ(kIndexTable[i].bands, bands_needed(index));
    EXPECT_EQ(is_spectral_index(index), kIndexTable[i].kind == IndexKind::index);
    if (kIndexTable[i].kind == IndexKind::index) ++spectral;
  }
  EXPECT_EQ(spectral, kIndexCount);
  // Names are the enum's own (stringised), lower case as users type them.
  EXPECT_EQ(index_spec(Index::ndvi).name, "ndvi");
  EXPECT_EQ(index_spec(Index::msavi2).name, "msavi2");
  EXPECT_EQ(index_spec(Index::red).name, "red");
  for (auto const& spec : kIndexTable)
    for (char c : spec.name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) << spec.name;
}

TEST(IndexTable, ReflectanceOutputsAreTheirBand) {
  auto const pixels = sample_pixels();
  IndexParams const params;
  for (auto const& r : pixels) {
    EXPECT_TRUE(same_bits(index_value(Index::blue, r, params), r[Band::blue]));
    EXPECT_TRUE(same_bits(index_value(Index::green, r, params), r[Band::green]));
    EXPECT_TRUE(same_bits(index_value(Index::red, r, params), r[Band::red]));
  }
}

}  // namespace
