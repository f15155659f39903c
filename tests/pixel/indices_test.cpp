// Every spectral index against values worked out by hand (in the comments), plus the
// undefined cases: zero denominators, NaN inputs, negative reflectances, negative
// square-root arguments and FVC's clamping.
//
// The index functions work in double precision. Tolerances: EXPECT_DOUBLE_EQ (4 ULP) where
// every input and intermediate is exact in binary; EXPECT_NEAR(..., 1e-12) (relative where
// the value is large) where decimal inputs like 0.1 carry their 1e-17 representation error
// through a few operations. The hand values are the decimal arithmetic in the comments.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "reclaim/pixel/indices.hpp"

namespace {

using namespace reclaim::pixel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTol = 1e-12;

// Landsat C2 L2 DN 1000 -> 1000 * 2.75e-5 - 0.2 = 0.0275 - 0.2 = -0.1725 (dark pixel, negative
// after the offset; real scenes have these over water and shadow).
constexpr double kLandsatDn1000 = -0.1725;

TEST(NormalizedDifference, TypicalAndUndefined) {
  // (0.5 - 0.1) / (0.5 + 0.1) = 0.4 / 0.6 = 2/3
  EXPECT_NEAR(normalized_difference(0.5, 0.1), 2.0 / 3.0, kTol);
  // (1 - 3) / (1 + 3) = -0.5, exact
  EXPECT_DOUBLE_EQ(normalized_difference(1.0, 3.0), -0.5);
  EXPECT_TRUE(std::isnan(normalized_difference(0.0, 0.0)));
  EXPECT_TRUE(std::isnan(normalized_difference(kNaN, 0.1)));
  EXPECT_TRUE(std::isnan(normalized_difference(0.1, kNaN)));
}

TEST(Ndvi, TypicalValues) {
  // NDVI(nir 0.5, red 0.1) = 0.4 / 0.6 = 0.666667 (dense vegetation)
  EXPECT_NEAR(ndvi(0.5, 0.1), 0.4 / 0.6, kTol);
  // NDVI(nir 0.25, red 0.25) = 0 / 0.5 = 0 (bare soil-like, equal reflectances)
  EXPECT_DOUBLE_EQ(ndvi(0.25, 0.25), 0.0);
  // NDVI(nir 0.1, red 0.3) = -0.2 / 0.4 = -0.5
  EXPECT_NEAR(ndvi(0.1, 0.3), -0.5, kTol);
  // NDVI(nir 1, red 0) = 1 exactly; NDVI(0, 1) = -1 exactly
  EXPECT_DOUBLE_EQ(ndvi(1.0, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(ndvi(0.0, 1.0), -1.0);
}

TEST(Ndvi, ZeroDenominatorIsNaN) {
  EXPECT_TRUE(std::isnan(ndvi(0.0, 0.0)));
  // 0.1725 + (-0.1725) == 0 exactly (x + -x): a negative red can cancel NIR.
  EXPECT_TRUE(std::isnan(ndvi(0.1725, kLandsatDn1000)));
}

TEST(Ndvi, NaNInputsGiveNaN) {
  EXPECT_TRUE(std::isnan(ndvi(kNaN, 0.1)));
  EXPECT_TRUE(std::isnan(ndvi(0.5, kNaN)));
  EXPECT_TRUE(std::isnan(ndvi(kNaN, kNaN)));
}

TEST(Ndvi, NegativeReflectanceAfterOffset) {
  // NDVI(nir 0.3, red -0.1725) = (0.3 + 0.1725) / (0.3 - 0.1725) = 0.4725 / 0.1275 = 3.7058824
  // (outside [-1, 1]: the formula is applied as is, not clamped; relative tolerance since the
  // small denominator amplifies input rounding)
  EXPECT_NEAR(ndvi(0.3, kLandsatDn1000), 0.4725 / 0.1275, 3.7058824 * kTol);
}

TEST(Evi, TypicalValues) {
  // EVI(nir 0.5, red 0.1, blue 0.05): denominator 0.5 + 0.6 - 0.375 + 1 = 1.725,
  // numerator 2.5 * 0.4 = 1.0, EVI = 1 / 1.725 = 0.5797101
  EXPECT_NEAR(evi(0.5, 0.1, 0.05), 1.0 / 1.725, kTol);
  // EVI(nir 0.2, red 0.2, blue 0.1) = 0 (no NIR/red contrast)
  EXPECT_DOUBLE_EQ(evi(0.2, 0.2, 0.1), 0.0);
  // EVI(nir 1, red 0, blue 0) = 2.5 * 1 / 2 = 1.25, exact
  EXPECT_DOUBLE_EQ(evi(1.0, 0.0, 0.0), 1.25);
}

TEST(Evi, ZeroDenominatorIsNaN) {
  // nir 0.875, red 0, blue 0.25: 0.875 + 0 - 7.5 * 0.25 + 1 = 0.875 - 1.875 + 1 = 0 (all exact)
  EXPECT_TRUE(std::isnan(evi(0.875, 0.0, 0.25)));
  // nir 0, red 0.125, blue 0.2: 0 + 0.75 - 1.5 + 1 = 0.25 -> defined: 2.5 * -0.125 / 0.25 = -1.25
  EXPECT_NEAR(evi(0.0, 0.125, 0.2), -1.25, kTol);
}

TEST(Evi, NaNInputsGiveNaN) {
  EXPECT_TRUE(std::isnan(evi(kNaN, 0.1, 0.05)));
  EXPECT_TRUE(std::isnan(evi(0.5, kNaN, 0.05)));
  EXPECT_TRUE(std::isnan(evi(0.5, 0.1, kNaN)));
}

TEST(Evi, NegativeReflectanceAfterOffset) {
  // EVI(nir 0.3, red 0.05, blue -0.1725): denominator 0.3 + 0.3 + 1.29375 + 1 = 2.89375,
  // numerator 2.5 * 0.25 = 0.625, EVI = 0.625 / 2.89375 = 0.2159827
  EXPECT_NEAR(evi(0.3, 0.05, kLandsatDn1000), 0.625 / 2.89375, kTol);
}

TEST(Savi, DefaultL) {
  // SAVI(nir 0.5, red 0.1, L 0.5) = 1.5 * 0.4 / (0.6 + 0.5) = 0.6 / 1.1 = 0.5454545
  EXPECT_NEAR(savi(0.5, 0.1), 0.6 / 1.1, kTol);
  EXPECT_NEAR(savi(0.5, 0.1, 0.5), 0.6 / 1.1, kTol);
}

TEST(Savi, OtherL) {
  // L = 0 reduces to NDVI: 0.4 / 0.6
  EXPECT_NEAR(savi(0.5, 0.1, 0.0), 0.4 / 0.6, kTol);
  // L = 1: 2 * 0.4 / (0.6 + 1) = 0.8 / 1.6 = 0.5
  EXPECT_NEAR(savi(0.5, 0.1, 1.0), 0.5, kTol);
  // L = 0.25: 1.25 * 0.4 / 0.85 = 0.5 / 0.85 = 0.5882353
  EXPECT_NEAR(savi(0.5, 0.1, 0.25), 0.5 / 0.85, kTol);
}

TEST(Savi, ZeroDenominatorIsNaN) {
  EXPECT_TRUE(std::isnan(savi(0.0, 0.0, 0.0)));
  // -0.25 + -0.25 + 0.5 = 0 exactly (all powers of two)
  EXPECT_TRUE(std::isnan(savi(-0.25, -0.25, 0.5)));
}

TEST(Savi, NaNAndNegativeInputs) {
  EXPECT_TRUE(std::isnan(savi(kNaN, 0.1)));
  EXPECT_TRUE(std::isnan(savi(0.5, kNaN)));
  // SAVI(nir 0.3, red -0.1725) = 1.5 * 0.4725 / (0.1275 + 0.5) = 0.70875 / 0.6275 = 1.1294821
  EXPECT_NEAR(savi(0.3, kLandsatDn1000), 0.70875 / 0.6275, 2 * kTol);
}

TEST(Msavi2, TypicalValues) {
  // MSAVI2(nir 0.5, red 0.1): a = 2 * 0.5 + 1 = 2, disc = 4 - 8 * 0.4 = 0.8,
  // (2 - sqrt(0.8)) / 2 = (2 - 0.8944272) / 2 = 0.5527864
  EXPECT_NEAR(msavi2(0.5, 0.1), (2.0 - std::sqrt(0.8)) / 2.0, kTol);
  // MSAVI2(0, 0): a = 1, disc = 1, (1 - 1) / 2 = 0
  EXPECT_DOUBLE_EQ(msavi2(0.0, 0.0), 0.0);
  // MSAVI2(nir 0.5, red 0): disc = 4 - 4 = 0 exactly, (2 - 0) / 2 = 1
  EXPECT_DOUBLE_EQ(msavi2(0.5, 0.0), 1.0);
  // MSAVI2(nir 0.25, red 0.25): a = 1.5, disc = 2.25 - 0 = 2.25, sqrt = 1.5 -> 0
  EXPECT_DOUBLE_EQ(msavi2(0.25, 0.25), 0.0);
}

TEST(Msavi2, NegativeDiscriminantIsNaN) {
  // nir 0.5, red -0.2: a = 2, disc = 4 - 8 * 0.7 = 4 - 5.6 = -1.6 < 0
  EXPECT_TRUE(std::isnan(msavi2(0.5, -0.2)));
  // nir 0.5, red -0.1725 (Landsat DN 1000): disc = 4 - 8 * 0.6725 = 4 - 5.38 = -1.38 < 0
  EXPECT_TRUE(std::isnan(msavi2(0.5, kLandsatDn1000)));
}

TEST(Msavi2, NegativeReflectance) {
  // nir 0.3, red -0.1725: a = 1.6, disc = 2.56 - 8 * 0.4725 = 2.56 - 3.78 = -1.22 -> NaN
  EXPECT_TRUE(std::isnan(msavi2(0.3, kLandsatDn1000)));
  // nir -0.1725, red 0.1: a = 0.655, disc = 0.429025 + 8 * 0.2725 = 0.429025 + 2.18 = 2.609025,
  // (0.655 - sqrt(2.609025)) / 2 = (0.655 - 1.6152477) / 2 = -0.4801238
  EXPECT_NEAR(msavi2(kLandsatDn1000, 0.1), (0.655 - std::sqrt(2.609025)) / 2.0, kTol);
}

TEST(Msavi2, NaNInputsGiveNaN) {
  EXPECT_TRUE(std::isnan(msavi2(kNaN, 0.1)));
  EXPECT_TRUE(std::isnan(msavi2(0.5, kNaN)));
}

TEST(Ndwi, Values) {
  // NDWI(green 0.1, nir 0.5) = -0.4 / 0.6 = -0.666667 (vegetation)
  EXPECT_NEAR(ndwi(0.1, 0.5), -0.4 / 0.6, kTol);
  // NDWI(green 0.08, nir 0.02) = 0.06 / 0.1 = 0.6 (open water)
  EXPECT_NEAR(ndwi(0.08, 0.02), 0.6, kTol);
  EXPECT_TRUE(std::isnan(ndwi(0.0, 0.0)));
  EXPECT_TRUE(std::isnan(ndwi(kNaN, 0.5)));
  EXPECT_TRUE(std::isnan(ndwi(0.1, kNaN)));
  // NDWI(green -0.1725, nir 0.3) = -0.4725 / 0.1275 = -3.7058824
  EXPECT_NEAR(ndwi(kLandsatDn1000, 0.3), -0.4725 / 0.1275, 3.7058824 * kTol);
}

TEST(Mndwi, Values) {
  // MNDWI(green 0.3, swir1 0.1) = 0.2 / 0.4 = 0.5
  EXPECT_NEAR(mndwi(0.3, 0.1), 0.5, kTol);
  // MNDWI(green 0.1, swir1 0.3) = -0.5
  EXPECT_NEAR(mndwi(0.1, 0.3), -0.5, kTol);
  EXPECT_TRUE(std::isnan(mndwi(0.0, 0.0)));
  EXPECT_TRUE(std::isnan(mndwi(kNaN, 0.1)));
  EXPECT_TRUE(std::isnan(mndwi(0.3, kNaN)));
  // MNDWI(green 0.1, swir1 -0.1725) = 0.2725 / -0.0725 = -3.7586207
  EXPECT_NEAR(mndwi(0.1, kLandsatDn1000), 0.2725 / -0.0725, 3.7586207 * kTol);
}

TEST(Nbr, Values) {
  // NBR(nir 0.5, swir2 0.2) = 0.3 / 0.7 = 0.4285714
  EXPECT_NEAR(nbr(0.5, 0.2), 0.3 / 0.7, kTol);
  // NBR(nir 0.1, swir2 0.3) = -0.2 / 0.4 = -0.5 (burnt / bare)
  EXPECT_NEAR(nbr(0.1, 0.3), -0.5, kTol);
  EXPECT_TRUE(std::isnan(nbr(0.0, 0.0)));
  EXPECT_TRUE(std::isnan(nbr(kNaN, 0.2)));
  EXPECT_TRUE(std::isnan(nbr(0.5, kNaN)));
  // NBR(nir 0.5, swir2 -0.1725) = 0.6725 / 0.3275 = 2.0534351
  EXPECT_NEAR(nbr(0.5, kLandsatDn1000), 0.6725 / 0.3275, 2.0534351 * kTol);
}

TEST(Ndmi, Values) {
  // NDMI(nir 0.5, swir1 0.3) = 0.2 / 0.8 = 0.25
  EXPECT_NEAR(ndmi(0.5, 0.3), 0.25, kTol);
  // NDMI(nir 0.2, swir1 0.3) = -0.1 / 0.5 = -0.2
  EXPECT_NEAR(ndmi(0.2, 0.3), -0.2, kTol);
  EXPECT_TRUE(std::isnan(ndmi(0.0, 0.0)));
  EXPECT_TRUE(std::isnan(ndmi(kNaN, 0.3)));
  EXPECT_TRUE(std::isnan(ndmi(0.5, kNaN)));
  // NDMI(nir -0.1725, swir1 0.3) = -0.4725 / 0.1275 = -3.7058824
  EXPECT_NEAR(ndmi(kLandsatDn1000, 0.3), -0.4725 / 0.1275, 3.7058824 * kTol);
}

TEST(Bsi, Values) {
  // BSI(blue 0.05, red 0.1, nir 0.5, swir1 0.3):
  //   (swir1 + red) = 0.4, (nir + blue) = 0.55, (0.4 - 0.55) / (0.4 + 0.55) = -0.15 / 0.95 = -0.1578947
  EXPECT_NEAR(bsi(0.05, 0.1, 0.5, 0.3), -0.15 / 0.95, kTol);
  // Bare soil: BSI(blue 0.1, red 0.3, nir 0.3, swir1 0.4): (0.7 - 0.4) / 1.1 = 0.2727273
  EXPECT_NEAR(bsi(0.1, 0.3, 0.3, 0.4), 0.3 / 1.1, kTol);
  EXPECT_TRUE(std::isnan(bsi(0.0, 0.0, 0.0, 0.0)));
  // All four terms cancel: (0.25 + -0.25) + (0.5 + -0.5) = 0 exactly
  EXPECT_TRUE(std::isnan(bsi(-0.5, -0.25, 0.5, 0.25)));
  EXPECT_TRUE(std::isnan(bsi(kNaN, 0.1, 0.5, 0.3)));
  EXPECT_TRUE(std::isnan(bsi(0.05, kNaN, 0.5, 0.3)));
  EXPECT_TRUE(std::isnan(bsi(0.05, 0.1, kNaN, 0.3)));
  EXPECT_TRUE(std::isnan(bsi(0.05, 0.1, 0.5, kNaN)));
  // BSI(blue -0.1725, red 0.1, nir 0.3, swir1 0.2): (0.3 - 0.1275) / (0.3 + 0.1275) = 0.1725 / 0.4275 = 0.4035088
  EXPECT_NEAR(bsi(kLandsatDn1000, 0.1, 0.3, 0.2), 0.1725 / 0.4275, kTol);
}

TEST(Fvc, TypicalValues) {
  // Default end-members soil 0.05, veg 0.86 (span 0.81):
  //   NDVI 0.455 -> (0.455 - 0.05) / 0.81 = 0.405 / 0.81 = 0.5
  EXPECT_NEAR(fvc(0.455, 0.05, 0.86), 0.5, kTol);
  //   NDVI 0.2 -> 0.15 / 0.81 = 0.1851852
  EXPECT_NEAR(fvc(0.2, 0.05, 0.86), 0.15 / 0.81, kTol);
  // End-members 0 and 1: FVC == NDVI in [0, 1]; 0.25 exact
  EXPECT_DOUBLE_EQ(fvc(0.25, 0.0, 1.0), 0.25);
}

TEST(Fvc, ClampsAtZeroAndOne) {
  EXPECT_DOUBLE_EQ(fvc(0.0, 0.05, 0.86), 0.0);   // -0.05 / 0.81 < 0 -> 0
  EXPECT_DOUBLE_EQ(fvc(-0.5, 0.05, 0.86), 0.0);  // water / negative NDVI -> 0
  EXPECT_DOUBLE_EQ(fvc(0.05, 0.05, 0.86), 0.0);  // exactly soil -> 0
  EXPECT_DOUBLE_EQ(fvc(0.86, 0.05, 0.86), 1.0);  // exactly veg -> 1
  EXPECT_DOUBLE_EQ(fvc(0.95, 0.05, 0.86), 1.0);  // 0.9 / 0.81 > 1 -> 1
  EXPECT_DOUBLE_EQ(fvc(3.7, 0.05, 0.86), 1.0);   // unphysical NDVI from negative reflectance
}

TEST(Fvc, EqualEndMembersAndNaN) {
  EXPECT_TRUE(std::isnan(fvc(0.5, 0.3, 0.3)));
  EXPECT_TRUE(std::isnan(fvc(0.3, 0.3, 0.3)));
  EXPECT_TRUE(std::isnan(fvc(kNaN, 0.05, 0.86)));
}

TEST(Fvc, ReversedEndMembersStillClamp) {
  // soil 0.8 > veg 0.2 (a misconfiguration): span -0.6; NDVI 0.5 -> -0.3 / -0.6 = 0.5
  EXPECT_NEAR(fvc(0.5, 0.8, 0.2), 0.5, kTol);
  // NDVI 0.9 -> 0.1 / -0.6 < 0 -> 0
  EXPECT_DOUBLE_EQ(fvc(0.9, 0.8, 0.2), 0.0);
}

}  // namespace
