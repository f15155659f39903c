// Index and band names as users type them on the command line.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "reclaim/error.hpp"
#include "reclaim/index_names.hpp"

namespace {

using reclaim::parse_index_list;
using reclaim::pixel::Band;
using reclaim::pixel::Index;

TEST(ParseIndexList, TwoNames) {
  EXPECT_EQ(parse_index_list("ndvi,evi"), (std::vector<Index>{Index::ndvi, Index::evi}));
  // Order is the user's, not the enum's.
  EXPECT_EQ(parse_index_list("fvc,ndvi,bsi"), (std::vector<Index>{Index::fvc, Index::ndvi, Index::bsi}));
  EXPECT_EQ(parse_index_list("msavi2"), (std::vector<Index>{Index::msavi2}));
}

TEST(ParseIndexList, All) {
  std::vector<Index> const all{Index::ndvi, Index::evi,  Index::savi, Index::msavi2, Index::ndwi,
                               Index::mndwi, Index::nbr, Index::ndmi, Index::bsi,    Index::fvc};
  EXPECT_EQ(parse_index_list("all"), all);
  // "all" after a name keeps that name first and adds the rest once.
  auto const mixed = parse_index_list("bsi,all");
  ASSERT_EQ(mixed.size(), 10u);
  EXPECT_EQ(mixed.front(), Index::bsi);
  EXPECT_EQ(parse_index_list("all,ndvi"), all);
}

TEST(ParseIndexList, DuplicatesRemoved) {
  EXPECT_EQ(parse_index_list("ndvi,ndvi"), (std::vector<Index>{Index::ndvi}));
  EXPECT_EQ(parse_index_list("ndvi,evi,ndvi,evi,nbr"), (std::vector<Index>{Index::ndvi, Index::evi, Index::nbr}));
  EXPECT_EQ(parse_index_list("all,all").size(), 10u);
}

TEST(ParseIndexList, UnknownNameIsUsageError) {
  EXPECT_THROW((void)parse_index_list("ndvx"), reclaim::usage_error);
  EXPECT_THROW((void)parse_index_list("ndvi,foo"), reclaim::usage_error);
  EXPECT_THROW((void)parse_index_list(""), reclaim::usage_error);
  EXPECT_THROW((void)parse_index_list("ndvi,,evi"), reclaim::usage_error);
  try {
    (void)parse_index_list("ndvi,bogus");
    FAIL() << "no exception";
  } catch (reclaim::usage_error const& e) {
    EXPECT_NE(std::string(e.what()).find("bogus"), std::string::npos) << e.what();
  }
}

TEST(IndexName, RoundTripsForEveryIndex) {
  for (int i = 0; i < reclaim::pixel::kIndexCount; ++i) {
    auto const index = static_cast<Index>(i);
    auto const name = reclaim::index_name(index);
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(reclaim::parse_index(name), index) << name;
    EXPECT_FALSE(reclaim::index_description(index).empty());
  }
  EXPECT_EQ(reclaim::index_name(Index::ndvi), "ndvi");
  EXPECT_EQ(reclaim::index_name(Index::msavi2), "msavi2");
  EXPECT_EQ(reclaim::index_name(Index::fvc), "fvc");
  EXPECT_FALSE(reclaim::parse_index("all").has_value());  // a list keyword, not an index
}

TEST(BandName, RoundTripsForEveryBand) {
  for (int b = 0; b < reclaim::pixel::kBandCount; ++b) {
    auto const band = static_cast<Band>(b);
    EXPECT_EQ(reclaim::parse_band(reclaim::band_name(band)), band);
  }
  EXPECT_EQ(reclaim::parse_band("nir"), Band::nir);
  EXPECT_EQ(reclaim::parse_band("swir2"), Band::swir2);
  EXPECT_FALSE(reclaim::parse_band("B08").has_value());
}

}  // namespace
