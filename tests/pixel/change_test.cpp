// Two-epoch change classification (include/reclaim/pixel/change.hpp) on hand-built pixels.
//
// Every default rule is tested on both sides of each of its thresholds and exactly at it.
// "Just below/above" is std::nextafter, one double ULP away, so a tolerance anywhere in the
// comparison would fail these tests. dNDVI thresholds are hit exactly by choosing NDVI pairs
// whose difference is exact in double: 0.15 - 0.0 and 0.0 - 0.15 are exactly +-0.15 (the
// double nearest 0.15, which is what the threshold 0.15 is too).
//
// Reference pixels (default thresholds: bare NDVI < 0.2 and BSI > 0, vegetated NDVI >= 0.4,
// water MNDWI > 0, gain dNDVI >= 0.15, loss dNDVI <= -0.15):
//   bare:       NDVI 0.1, BSI 0.1,  MNDWI -0.3
//   vegetated:  NDVI 0.7, BSI -0.2, MNDWI -0.5
#include <cmath>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

#include "reclaim/pixel/change.hpp"

namespace {

using namespace reclaim::pixel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double below(double x) { return std::nextafter(x, -1e300); }
double above(double x) { return std::nextafter(x, 1e300); }

EpochIndices epoch(double ndvi, double bsi, double mndwi, double fvc = kNaN) {
  EpochIndices e;
  e.ndvi = ndvi;
  e.bsi = bsi;
  e.mndwi = mndwi;
  e.fvc = fvc;
  return e;
}
EpochIndices bare(double ndvi = 0.1, double bsi = 0.1) { return epoch(ndvi, bsi, -0.3); }
EpochIndices vegetated(double ndvi = 0.7) { return epoch(ndvi, -0.2, -0.5); }

int classify(EpochIndices const& before, EpochIndices const& after, ChangeRules const& rules = default_change_rules()) {
  return change_class(rules, before, after);
}

TEST(ChangeRulesTable, IsTriviallyCopyableAndHoldsTheSevenDefaults) {
  static_assert(std::is_trivially_copyable_v<ChangeRules>);
  ChangeRules const r = default_change_rules();
  EXPECT_EQ(r.size(), kDefaultChangeRuleCount);
  EXPECT_EQ(r.rule(0).class_value, kClassWater);
  EXPECT_EQ(r.rule(1).class_value, kClassWater);
  EXPECT_EQ(r.rule(2).class_value, kClassVegetationLoss);
  EXPECT_EQ(r.rule(6).class_value, kClassStableBare);
}

TEST(ChangeRulesTable, NeededVariablesAreThoseTheRulesRead) {
  ChangeRules const r = default_change_rules();
  for (ChangeVar v : {ChangeVar::ndvi_before, ChangeVar::ndvi_after, ChangeVar::dndvi, ChangeVar::bsi_before,
                      ChangeVar::bsi_after, ChangeVar::mndwi_before, ChangeVar::mndwi_after})
    EXPECT_TRUE(r.needs(v)) << change_var_name(v);
  EXPECT_FALSE(r.needs(ChangeVar::fvc_before));
  EXPECT_FALSE(r.needs(ChangeVar::fvc_after));
  EXPECT_TRUE(r.needs_bsi());
  EXPECT_TRUE(r.needs_mndwi());
  EXPECT_FALSE(r.needs_fvc());

  ChangeThresholds t;
  t.vegetated_by_fvc = true;
  EXPECT_TRUE(default_change_rules(t).needs_fvc());

  ChangeRules const empty;
  EXPECT_EQ(empty.needed(), ChangeRules::var_bit(ChangeVar::ndvi_before) | ChangeRules::var_bit(ChangeVar::ndvi_after));
}

TEST(ChangeRulesTable, RejectsInvalidRulesAndOverflow) {
  ChangeRules r;
  EXPECT_FALSE(r.add(kClassNodata, {}));
  EXPECT_FALSE(r.add(kClassUnclassified, {}));
  EXPECT_FALSE(r.add(7, {{ChangeVar::dndvi, CompareOp::ge, kNaN}}));
  ChangeRule bad;
  bad.class_value = 7;
  bad.condition_count = kMaxRuleConditions + 1;
  EXPECT_FALSE(r.add_rule(bad));
  bad.condition_count = 1;
  bad.conditions[0].var = static_cast<ChangeVar>(kChangeVarCount);
  EXPECT_FALSE(r.add_rule(bad));
  bad.conditions[0].var = ChangeVar::dndvi;
  bad.conditions[0].op = static_cast<CompareOp>(kCompareOpCount);
  EXPECT_FALSE(r.add_rule(bad));
  EXPECT_EQ(r.size(), 0);

  for (int i = 0; i < kMaxChangeRules; ++i) ASSERT_TRUE(r.add(7, {}));
  EXPECT_FALSE(r.add(7, {}));
  EXPECT_EQ(r.size(), kMaxChangeRules);
}

TEST(ChangeOperators, ThresholdSideFollowsTheOperator) {
  for (auto [op, at, lo, hi] : {std::tuple{CompareOp::lt, false, true, false}, std::tuple{CompareOp::le, true, true, false},
                                std::tuple{CompareOp::gt, false, false, true}, std::tuple{CompareOp::ge, true, false, true}}) {
    ChangeCondition const c{ChangeVar::ndvi_after, op, 0.4};
    EXPECT_EQ(c.holds(0.4), at) << compare_op_name(op);
    EXPECT_EQ(c.holds(below(0.4)), lo) << compare_op_name(op);
    EXPECT_EQ(c.holds(above(0.4)), hi) << compare_op_name(op);
    EXPECT_FALSE(c.holds(kNaN)) << compare_op_name(op);
  }
}

TEST(ChangeDndvi, IsAfterMinusBefore) {
  EXPECT_EQ(dndvi(0.0, 0.15), 0.15);
  EXPECT_EQ(dndvi(0.15, 0.0), -0.15);
  EXPECT_EQ(dndvi(0.25, 0.75), 0.5);
  EXPECT_TRUE(std::isnan(dndvi(kNaN, 0.5)));
  EXPECT_TRUE(std::isnan(dndvi(0.5, kNaN)));
}

// ---- 6 water: MNDWI > 0 in either epoch; 0 itself is not water --------------------------------------
TEST(ChangeClass, WaterBeforeThreshold) {
  EXPECT_EQ(classify(epoch(0.1, 0.1, above(0.0)), bare()), kClassWater);
  EXPECT_EQ(classify(epoch(0.1, 0.1, 0.0), bare()), kClassStableBare);
  EXPECT_EQ(classify(epoch(0.1, 0.1, below(0.0)), bare()), kClassStableBare);
}

TEST(ChangeClass, WaterAfterThreshold) {
  EXPECT_EQ(classify(bare(), epoch(0.1, 0.1, above(0.0))), kClassWater);
  EXPECT_EQ(classify(bare(), epoch(0.1, 0.1, 0.0)), kClassStableBare);
  EXPECT_EQ(classify(bare(), epoch(0.1, 0.1, below(0.0))), kClassStableBare);
}

TEST(ChangeClass, WaterTakesPrecedenceOverEveryOtherRule) {
  EpochIndices const water_before = epoch(0.1, 0.1, 0.4);
  EpochIndices const water_after = epoch(0.7, -0.2, 0.4);
  EXPECT_EQ(classify(water_before, vegetated()), kClassWater);  // would be revegetated
  EXPECT_EQ(classify(bare(), water_after), kClassWater);        // would be revegetated
  EXPECT_EQ(classify(epoch(0.8, -0.2, 0.4), bare()), kClassWater);  // would be loss
  EXPECT_EQ(classify(epoch(0.7, -0.2, 0.1), vegetated()), kClassWater);  // would be stable vegetation
  EXPECT_EQ(classify(epoch(0.0, 0.1, 0.2), epoch(0.15, 0.1, -0.3)), kClassWater);  // would be partial
}

// ---- 5 vegetation loss: dNDVI <= -0.15 (exactly -0.15 is loss) -------------------------------------------
TEST(ChangeClass, LossThreshold) {
  // after NDVI 0, so dNDVI = -NDVI_before exactly; both epochs bare otherwise (stable bare).
  EXPECT_EQ(classify(bare(0.15), bare(0.0)), kClassVegetationLoss);
  EXPECT_EQ(classify(bare(above(0.15)), bare(0.0)), kClassVegetationLoss);
  EXPECT_EQ(classify(bare(below(0.15)), bare(0.0)), kClassStableBare);
}

TEST(ChangeClass, LossFromVegetation) {
  EXPECT_EQ(classify(vegetated(0.7), bare(0.1)), kClassVegetationLoss);      // cleared
  EXPECT_EQ(classify(vegetated(0.8), vegetated(0.6)), kClassVegetationLoss);  // degraded, still vegetated
  EXPECT_EQ(classify(vegetated(0.8), vegetated(0.7)), kClassStableVegetation);
}

// ---- 2 revegetated: bare before (NDVI < 0.2, BSI > 0), vegetated after (NDVI >= 0.4) -----------------
TEST(ChangeClass, RevegetatedVegetationThresholdAfter) {
  EXPECT_EQ(classify(bare(), vegetated(0.4)), kClassRevegetated);
  EXPECT_EQ(classify(bare(), vegetated(above(0.4))), kClassRevegetated);
  EXPECT_EQ(classify(bare(), vegetated(below(0.4))), kClassPartialRecovery);  // gain 0.3, not vegetated
}

TEST(ChangeClass, RevegetatedBareNdviThresholdBefore) {
  EXPECT_EQ(classify(bare(below(0.2)), vegetated()), kClassRevegetated);
  // NDVI 0.2 is not bare: from neither bare nor vegetated to vegetated matches no default rule.
  EXPECT_EQ(classify(bare(0.2), vegetated()), kClassUnclassified);
  EXPECT_EQ(classify(bare(above(0.2)), vegetated()), kClassUnclassified);
}

TEST(ChangeClass, RevegetatedBareBsiThresholdBefore) {
  EXPECT_EQ(classify(bare(0.1, above(0.0)), vegetated()), kClassRevegetated);
  EXPECT_EQ(classify(bare(0.1, 0.0), vegetated()), kClassUnclassified);  // BSI 0 is not bare
  EXPECT_EQ(classify(bare(0.1, below(0.0)), vegetated()), kClassUnclassified);
}

// ---- 3 partial recovery: dNDVI >= 0.15 and NDVI_after < 0.4 ------------------------------------------
TEST(ChangeClass, PartialRecoveryGainThreshold) {
  // before NDVI 0, so dNDVI = NDVI_after exactly; after stays bare by NDVI and BSI.
  EXPECT_EQ(classify(bare(0.0), bare(0.15)), kClassPartialRecovery);
  EXPECT_EQ(classify(bare(0.0), bare(above(0.15))), kClassPartialRecovery);
  EXPECT_EQ(classify(bare(0.0), bare(below(0.15))), kClassStableBare);
}

TEST(ChangeClass, PartialRecoveryFromNonBareGround) {
  // NDVI 0.2 -> 0.39: not bare before, significant gain, below the vegetation threshold.
  EXPECT_EQ(classify(epoch(0.2, -0.1, -0.3), epoch(0.39, -0.1, -0.3)), kClassPartialRecovery);
}

// ---- 4 stable vegetation: NDVI >= 0.4 in both epochs (and no loss) ----------------------------------------
TEST(ChangeClass, StableVegetationThresholdBefore) {
  EXPECT_EQ(classify(vegetated(0.4), vegetated(0.4)), kClassStableVegetation);
  EXPECT_EQ(classify(vegetated(above(0.4)), vegetated(0.4)), kClassStableVegetation);
  EXPECT_EQ(classify(vegetated(below(0.4)), vegetated(0.4)), kClassUnclassified);
}

TEST(ChangeClass, StableVegetationThresholdAfter) {
  EXPECT_EQ(classify(vegetated(0.5), vegetated(0.4)), kClassStableVegetation);
  EXPECT_EQ(classify(vegetated(0.5), vegetated(above(0.4))), kClassStableVegetation);
  EXPECT_EQ(classify(vegetated(0.5), vegetated(below(0.4))), kClassUnclassified);  // dNDVI -0.1: no loss
}

// ---- 1 stable bare: bare in both epochs ----------------------------------------------------------------
TEST(ChangeClass, StableBareEveryThreshold) {
  EXPECT_EQ(classify(bare(), bare()), kClassStableBare);
  // NDVI after: 0.2 is not bare (dNDVI 0.1: neither gain nor loss).
  EXPECT_EQ(classify(bare(0.1), bare(below(0.2))), kClassStableBare);
  EXPECT_EQ(classify(bare(0.1), bare(0.2)), kClassUnclassified);
  EXPECT_EQ(classify(bare(0.1), bare(above(0.2))), kClassUnclassified);
  // NDVI before.
  EXPECT_EQ(classify(bare(below(0.2)), bare(0.1)), kClassStableBare);
  EXPECT_EQ(classify(bare(0.2), bare(0.1)), kClassUnclassified);
  EXPECT_EQ(classify(bare(above(0.2)), bare(0.1)), kClassUnclassified);
  // BSI after: 0 is not bare.
  EXPECT_EQ(classify(bare(), bare(0.1, above(0.0))), kClassStableBare);
  EXPECT_EQ(classify(bare(), bare(0.1, 0.0)), kClassUnclassified);
  EXPECT_EQ(classify(bare(), bare(0.1, below(0.0))), kClassUnclassified);
  // BSI before.
  EXPECT_EQ(classify(bare(0.1, above(0.0)), bare()), kClassStableBare);
  EXPECT_EQ(classify(bare(0.1, 0.0), bare()), kClassUnclassified);
  EXPECT_EQ(classify(bare(0.1, below(0.0)), bare()), kClassUnclassified);
}

// ---- 0 nodata ----------------------------------------------------------------------------------------
TEST(ChangeClass, NaNInAnyNeededInputIsNodata) {
  EpochIndices const b = bare();
  EpochIndices const a = vegetated();
  ASSERT_EQ(classify(b, a), kClassRevegetated);
  for (int field = 0; field < 3; ++field) {
    for (int which = 0; which < 2; ++which) {
      EpochIndices before = b, after = a;
      EpochIndices& e = which == 0 ? before : after;
      (field == 0 ? e.ndvi : field == 1 ? e.bsi : e.mndwi) = kNaN;
      EXPECT_EQ(classify(before, after), kClassNodata) << "field " << field << " epoch " << which;
    }
  }
  // A fully masked epoch.
  EXPECT_EQ(classify(EpochIndices{}, a), kClassNodata);
  EXPECT_EQ(classify(b, EpochIndices{}), kClassNodata);
}

TEST(ChangeClass, NodataBeatsWater) {
  EXPECT_EQ(classify(epoch(0.1, 0.1, 0.5), epoch(0.1, kNaN, -0.3)), kClassNodata);
  EXPECT_EQ(classify(epoch(kNaN, 0.1, 0.5), bare()), kClassNodata);
}

TEST(ChangeClass, FvcIsNotNeededByTheNdviDefaults) {
  EXPECT_EQ(classify(epoch(0.1, 0.1, -0.3, kNaN), epoch(0.7, -0.2, -0.5, kNaN)), kClassRevegetated);
}

TEST(ChangeClass, EmptyTableStillMasksOnNdvi) {
  ChangeRules const empty;
  EXPECT_EQ(classify(bare(), vegetated(), empty), kClassUnclassified);
  EXPECT_EQ(classify(EpochIndices{}, vegetated(), empty), kClassNodata);
}

// ---- vegetated by FVC (FVC >= 0.5) -----------------------------------------------------------------------
TEST(ChangeClass, FvcVegetationThreshold) {
  ChangeThresholds t;
  t.vegetated_by_fvc = true;
  ChangeRules const r = default_change_rules(t);
  EpochIndices const before = epoch(0.1, 0.1, -0.3, 0.06);
  // NDVI after 0.3 (below the NDVI threshold: FVC alone decides), dNDVI 0.2 >= gain.
  EXPECT_EQ(classify(before, epoch(0.3, -0.1, -0.3, 0.5), r), kClassRevegetated);
  EXPECT_EQ(classify(before, epoch(0.3, -0.1, -0.3, above(0.5)), r), kClassRevegetated);
  EXPECT_EQ(classify(before, epoch(0.3, -0.1, -0.3, below(0.5)), r), kClassPartialRecovery);
  // Stable vegetation by FVC, NDVI 0.3 in both epochs.
  EXPECT_EQ(classify(epoch(0.3, -0.1, -0.3, 0.5), epoch(0.3, -0.1, -0.3, 0.5), r), kClassStableVegetation);
  EXPECT_EQ(classify(epoch(0.3, -0.1, -0.3, below(0.5)), epoch(0.3, -0.1, -0.3, 0.5), r), kClassUnclassified);
  // FVC is now needed.
  EXPECT_EQ(classify(before, epoch(0.3, -0.1, -0.3, kNaN), r), kClassNodata);
  EXPECT_EQ(classify(epoch(0.1, 0.1, -0.3, kNaN), epoch(0.3, -0.1, -0.3, 0.5), r), kClassNodata);
}

// ---- changed thresholds and added classes -------------------------------------------------------------
TEST(ChangeClass, CustomThresholdsMoveTheBoundaries) {
  ChangeThresholds t;
  t.ndvi_bare = 0.1;
  t.ndvi_vegetated = 0.6;
  t.dndvi_gain = 0.3;
  t.mndwi_water = 0.2;
  ChangeRules const r = default_change_rules(t);
  EXPECT_EQ(classify(bare(0.15), vegetated(0.7), r), kClassUnclassified);  // 0.15 no longer bare
  EXPECT_EQ(classify(bare(below(0.1)), vegetated(0.6), r), kClassRevegetated);
  EXPECT_EQ(classify(bare(0.05), vegetated(below(0.6)), r), kClassPartialRecovery);
  EXPECT_EQ(classify(bare(0.0), bare(below(0.3)), r), kClassUnclassified);  // gain below 0.3, after not bare
  EXPECT_EQ(classify(epoch(0.05, 0.1, 0.2), bare(0.05), r), kClassStableBare);  // MNDWI 0.2 not water
  EXPECT_EQ(classify(epoch(0.05, 0.1, above(0.2)), bare(0.05), r), kClassWater);
}

TEST(ChangeClass, AppendedCustomClassTakesWhatTheDefaultsLeave) {
  ChangeRules r = default_change_rules();
  ASSERT_TRUE(r.add(7, {{ChangeVar::dndvi, CompareOp::ge, 0.15}, {ChangeVar::ndvi_after, CompareOp::ge, 0.4}}));
  // Not bare before (NDVI 0.3), vegetated after: 255 under the defaults, 7 now.
  EXPECT_EQ(classify(epoch(0.3, -0.1, -0.3), vegetated(0.7)), kClassUnclassified);
  EXPECT_EQ(classify(epoch(0.3, -0.1, -0.3), vegetated(0.7), r), 7);
  // Bare before: the earlier default rule still wins.
  EXPECT_EQ(classify(bare(), vegetated(0.7), r), kClassRevegetated);
}

TEST(ChangeClass, FirstMatchingRuleWins) {
  ChangeRules r;
  ASSERT_TRUE(r.add(9, {{ChangeVar::ndvi_after, CompareOp::gt, 0.5}}));
  ASSERT_TRUE(r.add(8, {{ChangeVar::ndvi_after, CompareOp::gt, 0.0}}));
  ASSERT_TRUE(r.add(7, {}));  // matches everything left
  EXPECT_EQ(classify(bare(), vegetated(0.7), r), 9);
  EXPECT_EQ(classify(bare(), bare(0.3), r), 8);
  EXPECT_EQ(classify(bare(), bare(-0.3), r), 7);
  // A rule reading FVC makes FVC needed even for pixels an earlier rule would match.
  ASSERT_TRUE(r.add(10, {{ChangeVar::fvc_after, CompareOp::ge, 0.5}}));
  EXPECT_EQ(classify(bare(), vegetated(0.7), r), kClassNodata);
}

TEST(ChangeClassStyles, DefaultsCoverEveryDefaultClassInOrder) {
  int previous = -1;
  for (ChangeClassStyle const& s : kDefaultChangeClasses) {
    EXPECT_GT(static_cast<int>(s.value), previous);
    previous = s.value;
    EXPECT_NE(s.name, nullptr);
  }
  EXPECT_EQ(std::size(kDefaultChangeClasses), 8u);
  EXPECT_EQ(kDefaultChangeClasses[0].rgba[3], 0);  // nodata transparent
}

}  // namespace

// ---- the magnitude-gated table (default_gated_rules): each class on both sides of the gate ----
namespace gated {

constexpr double kT = 2.5;  // the magnitude threshold
int classify_gated(EpochIndices const& before, EpochIndices const& after, double magnitude) {
  return change_class(default_gated_rules({}, kT), before, after, magnitude);
}
EpochIndices water(double mndwi = 0.4) { return epoch(-0.2, -0.4, mndwi); }

TEST(GatedChangeClass, TableHoldsTenRulesAndNeedsTheMagnitude) {
  ChangeRules const r = default_gated_rules({}, kT);
  EXPECT_EQ(r.size(), kGatedChangeRuleCount);
  EXPECT_TRUE(r.needs(ChangeVar::magnitude));
  EXPECT_EQ(r.rule(r.size() - 1).class_value, kClassStableOther);
  EXPECT_EQ(r.rule(r.size() - 1).condition_count, 0);
}

TEST(GatedChangeClass, EveryChangeClassNeedsTheMagnitudeAtOrAboveTheThreshold) {
  struct Case {
    EpochIndices before, after;
    int changed, stable;
  };
  Case const cases[] = {
      {bare(), water(), kClassWaterGained, kClassStableOther},
      {water(), bare(), kClassWaterLost, kClassStableOther},
      {bare(), vegetated(), kClassRevegetated, kClassStableOther},
      {vegetated(0.6), vegetated(0.4), kClassVegetationLoss, kClassStableVegetation},  // dNDVI -0.2
      {epoch(0.25, -0.1, -0.3), epoch(0.4, -0.1, -0.3), kClassPartialRecovery, kClassStableOther},  // +0.15
      {vegetated(0.7), vegetated(0.65), kClassOtherChange, kClassStableVegetation},
      {bare(), bare(0.15), kClassOtherChange, kClassStableBare},
  };
  for (auto const& c : cases) {
    EXPECT_EQ(classify_gated(c.before, c.after, kT), c.changed) << c.changed;         // at the threshold: changed
    EXPECT_EQ(classify_gated(c.before, c.after, above(kT)), c.changed) << c.changed;
    EXPECT_EQ(classify_gated(c.before, c.after, below(kT)), c.stable) << c.changed;  // one ULP below: stable
  }
}

TEST(GatedChangeClass, StableWaterWhateverTheMagnitude) {
  EXPECT_EQ(classify_gated(water(0.4), water(0.6), 10.0), kClassWater);
  EXPECT_EQ(classify_gated(water(0.4), water(0.6), 0.1), kClassWater);
  // The water tests' own sides: MNDWI exactly 0 is not water.
  EXPECT_EQ(classify_gated(water(0.0), water(0.6), kT), kClassWaterGained);
  EXPECT_EQ(classify_gated(water(above(0.0)), water(0.0), kT), kClassWaterLost);
}

TEST(GatedChangeClass, DirectionThresholdsOnBothSides) {
  // Loss at dNDVI <= -0.15 (exact in double: 0.0 - 0.15), else other change.
  EXPECT_EQ(classify_gated(epoch(0.15, -0.1, -0.3), epoch(0.0, -0.1, -0.3), kT), kClassVegetationLoss);
  EXPECT_EQ(classify_gated(epoch(below(0.15), -0.1, -0.3), epoch(0.0, -0.1, -0.3), kT), kClassOtherChange);
  // Gain at dNDVI >= 0.15, below the vegetated NDVI and not from bare: partial recovery.
  EXPECT_EQ(classify_gated(epoch(0.0, -0.1, -0.3), epoch(0.15, -0.1, -0.3), kT), kClassPartialRecovery);
  EXPECT_EQ(classify_gated(epoch(0.0, -0.1, -0.3), epoch(below(0.15), -0.1, -0.3), kT), kClassOtherChange);
  // Revegetated needs bare before (NDVI < 0.2, BSI > 0) and vegetated after (NDVI >= 0.4).
  EXPECT_EQ(classify_gated(bare(below(0.2)), vegetated(0.4), kT), kClassRevegetated);
  EXPECT_EQ(classify_gated(bare(0.2), vegetated(0.4), kT), kClassPartialRecovery);  // dNDVI 0.2: gain
  EXPECT_EQ(classify_gated(bare(0.1, 0.0), vegetated(0.4), kT), kClassPartialRecovery);  // BSI 0 is not bare
}

TEST(GatedChangeClass, NaNMagnitudeIsNodata) {
  EXPECT_EQ(classify_gated(bare(), vegetated(), kNaN), kClassNodata);
  EXPECT_EQ(classify_gated(bare(), epoch(kNaN, 0.1, -0.3), 5.0), kClassNodata);
}

TEST(GatedChangeClass, StylesCoverEveryGatedClassInOrder) {
  int previous = -1;
  for (auto const& s : kGatedChangeClasses) {
    EXPECT_GT(static_cast<int>(s.value), previous);
    previous = s.value;
  }
  ChangeRules const r = default_gated_rules({}, kT);
  for (int i = 0; i < r.size(); ++i) {
    bool found = false;
    for (auto const& s : kGatedChangeClasses) found |= s.value == r.rule(i).class_value;
    EXPECT_TRUE(found) << static_cast<int>(r.rule(i).class_value);
  }
}

}  // namespace gated
