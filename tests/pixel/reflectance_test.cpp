// DN -> reflectance (Sentinel-2 L2A BOA offset, Landsat C2 L2 scaling, nodata, saturation)
// and quality-mask decoding (SCL classes, QA_PIXEL bits), against hand-worked values.
//
// Tolerance: reflectances are (DN + dn_offset) * scale + offset in double; the hand values are
// decimal (1e-4, 2.75e-5 are not exact in binary), so EXPECT_NEAR(..., 1e-12) unless noted.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "reclaim/pixel/reflectance.hpp"

namespace {

using namespace reclaim::pixel;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kTol = 1e-12;

/// Sentinel-2 L2A from processing baseline 04.00: reflectance = (DN - 1000) / 10000.
BandCalibration sentinel2_l2a() {
  BandCalibration c;
  c.dn_offset = -1000.0;
  c.scale = 1e-4;
  c.offset = 0.0;
  c.nodata = 0.f;
  c.has_nodata = true;
  c.saturation = 65535.f;
  c.has_saturation = true;
  return c;
}

/// Landsat 8/9 Collection 2 Level-2 surface reflectance: DN * 2.75e-5 - 0.2.
BandCalibration landsat_c2l2() {
  BandCalibration c;
  c.scale = 2.75e-5;
  c.offset = -0.2;
  c.nodata = 0.f;
  c.has_nodata = true;
  c.saturation = 65535.f;
  c.has_saturation = true;
  return c;
}

TEST(ToReflectance, Sentinel2BoaOffset) {
  auto const c = sentinel2_l2a();
  // (1500 - 1000) * 1e-4 = 0.05
  EXPECT_NEAR(to_reflectance(1500.f, c), 0.05, kTol);
  // (1000 - 1000) * 1e-4 = 0 exactly
  EXPECT_DOUBLE_EQ(to_reflectance(1000.f, c), 0.0);
  // (6000 - 1000) * 1e-4 = 0.5
  EXPECT_NEAR(to_reflectance(6000.f, c), 0.5, kTol);
  // (500 - 1000) * 1e-4 = -0.05: negative after the offset is valid, not NaN
  EXPECT_NEAR(to_reflectance(500.f, c), -0.05, kTol);
  // (1 - 1000) * 1e-4 = -0.0999
  EXPECT_NEAR(to_reflectance(1.f, c), -0.0999, kTol);
}

TEST(ToReflectance, Sentinel2WithoutOffset) {
  auto c = sentinel2_l2a();
  c.dn_offset = 0.0;  // baselines before 04.00
  // 1500 * 1e-4 = 0.15
  EXPECT_NEAR(to_reflectance(1500.f, c), 0.15, kTol);
}

TEST(ToReflectance, LandsatScaling) {
  auto const c = landsat_c2l2();
  // 1000 * 2.75e-5 - 0.2 = 0.0275 - 0.2 = -0.1725
  EXPECT_NEAR(to_reflectance(1000.f, c), -0.1725, kTol);
  // 20000 * 2.75e-5 - 0.2 = 0.55 - 0.2 = 0.35
  EXPECT_NEAR(to_reflectance(20000.f, c), 0.35, kTol);
  // 7273 * 2.75e-5 - 0.2 = 0.2000075 - 0.2 = 7.5e-6 (tiny positive)
  EXPECT_NEAR(to_reflectance(7273.f, c), 7.5e-6, kTol);
  // 43636 * 2.75e-5 - 0.2 = 1.19999 - 0.2 = 0.99999
  EXPECT_NEAR(to_reflectance(43636.f, c), 0.99999, kTol);
}

TEST(ToReflectance, NodataIsNaN) {
  EXPECT_TRUE(std::isnan(to_reflectance(0.f, sentinel2_l2a())));
  EXPECT_TRUE(std::isnan(to_reflectance(0.f, landsat_c2l2())));
  // A different nodata value: 0 becomes valid, the nodata value is not.
  auto c = sentinel2_l2a();
  c.nodata = 65000.f;
  EXPECT_NEAR(to_reflectance(0.f, c), -0.1, kTol);  // (0 - 1000) * 1e-4
  EXPECT_TRUE(std::isnan(to_reflectance(65000.f, c)));
  // Without has_nodata the nodata field is ignored.
  c = sentinel2_l2a();
  c.has_nodata = false;
  EXPECT_NEAR(to_reflectance(0.f, c), -0.1, kTol);
}

TEST(ToReflectance, Saturation) {
  auto c = sentinel2_l2a();
  // DN >= 65535 -> NaN; just below is valid: (65534 - 1000) * 1e-4 = 6.4534
  EXPECT_TRUE(std::isnan(to_reflectance(65535.f, c)));
  EXPECT_TRUE(std::isnan(to_reflectance(70000.f, c)));
  EXPECT_NEAR(to_reflectance(65534.f, c), 6.4534, 6.4534 * kTol);
  // A lower saturation threshold (e.g. a 12-bit sensor)
  c.saturation = 4095.f;
  EXPECT_TRUE(std::isnan(to_reflectance(4095.f, c)));
  EXPECT_NEAR(to_reflectance(4094.f, c), 0.3094, kTol);  // (4094 - 1000) * 1e-4
  // Without has_saturation the threshold is ignored.
  c = sentinel2_l2a();
  c.has_saturation = false;
  EXPECT_NEAR(to_reflectance(65535.f, c), 6.4535, 6.4535 * kTol);
}

TEST(ToReflectance, NaNDnIsNaN) {
  EXPECT_TRUE(std::isnan(to_reflectance(kNaN, sentinel2_l2a())));
  BandCalibration plain;  // identity calibration, no nodata: NaN must still stay NaN
  EXPECT_TRUE(std::isnan(to_reflectance(kNaN, plain)));
  EXPECT_DOUBLE_EQ(to_reflectance(0.25f, plain), 0.25);
}

MaskRule scl_rule() {
  // Sentinel-2 SCL: 3 cloud shadow, 8 cloud medium, 9 cloud high, 10 thin cirrus.
  MaskRule rule;
  for (std::uint32_t v : {3u, 8u, 9u, 10u}) rule.add_class(v);
  return rule;
}

TEST(MaskRule, SclClasses) {
  auto const rule = scl_rule();
  EXPECT_TRUE(is_masked(3.f, rule));
  EXPECT_TRUE(is_masked(8.f, rule));
  EXPECT_TRUE(is_masked(9.f, rule));
  EXPECT_TRUE(is_masked(10.f, rule));
  for (float v : {0.f, 1.f, 2.f, 4.f, 5.f, 6.f, 7.f, 11.f, 63.f, 64.f, 255.f})
    EXPECT_FALSE(is_masked(v, rule)) << "SCL " << v;
}

TEST(MaskRule, ClassBoundaries) {
  MaskRule rule;
  // 63/64 and 127/128 straddle the 64-bit words; 0 and 255 are the ends.
  for (std::uint32_t v : {0u, 63u, 64u, 128u, 255u}) rule.add_class(v);
  for (float v : {0.f, 63.f, 64.f, 128.f, 255.f}) EXPECT_TRUE(is_masked(v, rule)) << v;
  for (float v : {1.f, 62.f, 65.f, 127.f, 129.f, 191.f, 192.f, 254.f}) EXPECT_FALSE(is_masked(v, rule)) << v;
}

TEST(MaskRule, ValuesFrom256OnlyViaBits) {
  MaskRule rule;
  rule.add_class(256);   // ignored: classes cover 0..255
  rule.add_class(1000);  // ignored, and must not write out of bounds
  for (auto w : rule.classes) EXPECT_EQ(w, 0u);
  EXPECT_FALSE(is_masked(256.f, rule));
  EXPECT_FALSE(is_masked(1000.f, rule));
  // Class 3 does not wrap onto 259 = 256 + 3 or 323 = 320 + 3.
  rule.add_class(3);
  EXPECT_TRUE(is_masked(3.f, rule));
  EXPECT_FALSE(is_masked(259.f, rule));
  EXPECT_FALSE(is_masked(323.f, rule));
  // Bits do reach values >= 256: bit 8 (256).
  rule.any_bits = 1u << 8;
  EXPECT_TRUE(is_masked(256.f, rule));
  EXPECT_TRUE(is_masked(259.f, rule));
  EXPECT_FALSE(is_masked(255.f, rule));
}

TEST(MaskRule, LandsatQaPixelBits) {
  MaskRule rule;
  rule.any_bits = 0x1F;  // bits 0-4: fill, dilated cloud, cirrus, cloud, cloud shadow
  // 21824 = 0b0101'0101'0100'0000 = bits 6, 8, 10, 12, 14: clear land, low confidences
  EXPECT_FALSE(is_masked(21824.f, rule));
  // bit 6 alone (clear) -> not masked
  EXPECT_FALSE(is_masked(64.f, rule));
  // bit 3 (cloud) -> masked: 21824 | 8 = 21832
  EXPECT_TRUE(is_masked(21832.f, rule));
  EXPECT_TRUE(is_masked(8.f, rule));
  // bit 0 (fill) -> masked
  EXPECT_TRUE(is_masked(1.f, rule));
  // bit 4 (cloud shadow) -> masked; bit 5 (snow) is outside 0x1F -> not masked
  EXPECT_TRUE(is_masked(16.f, rule));
  EXPECT_FALSE(is_masked(32.f, rule));
  // 22280 = 16384 + 4096 + 1024 + 512 + 256 + 8: high-confidence cloud (bit 3)
  EXPECT_TRUE(is_masked(22280.f, rule));
  // 55052 = 32768 + 16384 + 4096 + 1024 + 512 + 256 + 8 + 4: cloud + cirrus bits
  EXPECT_TRUE(is_masked(55052.f, rule));
}

TEST(MaskRule, ClassesAndBitsTogether) {
  auto rule = scl_rule();
  rule.any_bits = 0x80;  // bit 7
  EXPECT_TRUE(is_masked(3.f, rule));     // class
  EXPECT_TRUE(is_masked(128.f, rule));   // bit 7
  EXPECT_TRUE(is_masked(132.f, rule));   // 128 + 4: bit 7, although class 4 is clear
  EXPECT_FALSE(is_masked(4.f, rule));
  EXPECT_FALSE(is_masked(127.f, rule));  // 0b0111'1111: no bit 7, class 127 not listed
}

TEST(MaskRule, NaNAndNegativeQualityAreMasked) {
  MaskRule const empty;
  EXPECT_FALSE(is_masked(0.f, empty));
  EXPECT_FALSE(is_masked(4.f, empty));
  EXPECT_TRUE(is_masked(kNaN, empty));
  EXPECT_TRUE(is_masked(-1.f, empty));
  EXPECT_TRUE(is_masked(-0.5f, empty));
  EXPECT_TRUE(is_masked(kNaN, scl_rule()));
  EXPECT_TRUE(is_masked(-1.f, scl_rule()));
}

}  // namespace
