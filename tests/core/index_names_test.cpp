// Index and band names as users type them on the command line.
#include <string>
#include <utility>
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

TEST(IndexName, EveryOutputRoundTripsAndHasItsFormulaAsDescription) {
  for (auto const& spec : reclaim::pixel::kIndexTable) {
    EXPECT_EQ(reclaim::index_name(spec.id), spec.name);
    EXPECT_EQ(reclaim::parse_index(spec.name), spec.id) << spec.name;
    EXPECT_EQ(reclaim::index_description(spec.id), spec.formula);
    EXPECT_EQ(reclaim::index_value_range(spec.id), std::make_pair(spec.lo, spec.hi));
  }
  EXPECT_EQ(reclaim::index_description(Index::ndvi), "NDVI = (NIR - Red) / (NIR + Red)");
  EXPECT_EQ(reclaim::index_value_range(Index::evi), std::make_pair(-2.0, 2.0));
  EXPECT_EQ(reclaim::index_value_range(Index::fvc), std::make_pair(0.0, 1.0 + 1e-9));
}

TEST(IndexName, HelpAndErrorsListEveryName) {
  EXPECT_EQ(reclaim::index_name_list(), "ndvi, evi, savi, msavi2, ndwi, mndwi, nbr, ndmi, bsi, fvc, or all");
  EXPECT_EQ(reclaim::known_index_names(),
            "ndvi, evi, savi, msavi2, ndwi, mndwi, nbr, ndmi, bsi, fvc, all; blue, green, red for reflectance");
  auto const help = reclaim::index_help();
  auto const help_one = reclaim::index_help(/*list_all=*/false);
  EXPECT_NE(help.find("\n  all "), std::string::npos);
  EXPECT_EQ(help_one.find("\n  all "), std::string::npos);
  for (auto const& spec : reclaim::pixel::kIndexTable) {
    auto const line = "  " + std::string(spec.name) + " ";
    EXPECT_NE(help.find(line), std::string::npos) << spec.name;
    EXPECT_NE(help.find(std::string(spec.formula) + "\n"), std::string::npos) << spec.name;
    EXPECT_NE(help_one.find(std::string(spec.formula) + "\n"), std::string::npos) << spec.name;
  }
  try {
    (void)parse_index_list("ndvi,bogus");
    FAIL() << "no exception";
  } catch (reclaim::usage_error const& e) {
    for (auto const& spec : reclaim::pixel::kIndexTable)
      EXPECT_NE(std::string(e.what()).find(std::string(spec.name)), std::string::npos) << spec.name;
  }
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
