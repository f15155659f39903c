#pragma once
/** @file
 * @brief Two-epoch change classification: an ordered rule table, first match wins.
 *
 * Each pixel has four indices per epoch (NDVI, BSI, MNDWI, FVC; NaN = nodata or masked).
 * A rule is a class value plus up to kMaxRuleConditions conditions `variable op threshold`,
 * all of which must hold (AND); OR is written as several rules with the same class. The
 * defaults (default_change_rules) ARE such a table, so a rules file (host/io/rules.cpp)
 * changes a threshold or adds a class by editing the table, and the CPU backend and the
 * CUDA kernel run the same change_class() on the same trivially copyable table.
 *
 * Two values are fixed: 0 (nodata) when NDVI of either epoch or any variable some rule reads
 * is NaN, and 255 (unclassified) when no rule matches. Class numbers, thresholds, threshold sides and their
 * sources are documented in docs/change.md.
 *
 * Comparisons are in double on the values the caller passes; dNDVI = NDVI_after -
 * NDVI_before, also in double. A value exactly at a threshold falls on the side its
 * operator says (`<` excludes it, `<=` includes it), with no tolerance.
 */
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "reclaim/pixel/hd.hpp"

namespace reclaim::pixel {

/// A variable a condition can test. Names (docs, rules files) are those of change_var_name().
enum class ChangeVar : std::uint8_t {
  ndvi_before,
  ndvi_after,
  dndvi,  ///< ndvi_after - ndvi_before
  bsi_before,
  bsi_after,
  mndwi_before,
  mndwi_after,
  fvc_before,
  fvc_after,
  magnitude,  ///< change-vector magnitude of the standardised bands (change_pass.hpp: change_magnitude)
};
inline constexpr int kChangeVarCount = 10;

enum class CompareOp : std::uint8_t { lt, le, gt, ge };
inline constexpr int kCompareOpCount = 4;

inline constexpr int kMaxChangeRules = 32;
inline constexpr int kMaxRuleConditions = 4;

/// Class values of the default scheme. 0 and 255 are fixed; a rules file may add 7..254.
inline constexpr std::uint8_t kClassNodata = 0;
inline constexpr std::uint8_t kClassStableBare = 1;
inline constexpr std::uint8_t kClassRevegetated = 2;
inline constexpr std::uint8_t kClassPartialRecovery = 3;
inline constexpr std::uint8_t kClassStableVegetation = 4;
inline constexpr std::uint8_t kClassVegetationLoss = 5;
inline constexpr std::uint8_t kClassWater = 6;
inline constexpr std::uint8_t kClassUnclassified = 255;
inline constexpr int kFirstCustomClass = 7;
inline constexpr int kLastCustomClass = 254;

/// Name of a variable as written in rules files ("ndvi_before", ...); nullptr when out of range.
constexpr char const* change_var_name(ChangeVar v) noexcept {
  constexpr char const* names[kChangeVarCount] = {"ndvi_before",  "ndvi_after", "dndvi",     "bsi_before",
                                                  "bsi_after",    "mndwi_before", "mndwi_after", "fvc_before",
                                                  "fvc_after",    "magnitude"};
  auto const i = static_cast<int>(v);
  return i < kChangeVarCount ? names[i] : nullptr;
}

/// Operator as written in rules files ("<", "<=", ">", ">="); nullptr when out of range.
constexpr char const* compare_op_name(CompareOp op) noexcept {
  constexpr char const* names[kCompareOpCount] = {"<", "<=", ">", ">="};
  auto const i = static_cast<int>(op);
  return i < kCompareOpCount ? names[i] : nullptr;
}

/// The four indices of one pixel in one epoch; NaN where the epoch has no valid value (and, in
/// the change pass, for an index no rule reads: change_pass.hpp epoch_indices).
struct EpochIndices {
  double ndvi = nan_d();
  double bsi = nan_d();
  double mndwi = nan_d();
  double fvc = nan_d();
};

/// dNDVI = NDVI_after - NDVI_before (NaN when either is NaN); the Float32 dNDVI product is
/// this value rounded once.
RECLAIM_HD inline double dndvi(double ndvi_before, double ndvi_after) noexcept { return ndvi_after - ndvi_before; }

/// `var op threshold`.
struct ChangeCondition {
  ChangeVar var = ChangeVar::ndvi_before;
  CompareOp op = CompareOp::lt;
  double threshold = 0.0;

  /// False for a NaN value (change_class never asks: it returns 0 first).
  RECLAIM_HD bool holds(double value) const noexcept {
    switch (op) {
      case CompareOp::lt: return value < threshold;
      case CompareOp::le: return value <= threshold;
      case CompareOp::gt: return value > threshold;
      case CompareOp::ge: return value >= threshold;
    }
    return false;
  }
};

/// A class value and the conditions (all must hold) that assign it; no condition matches every pixel.
struct ChangeRule {
  std::uint8_t class_value = kClassUnclassified;
  std::uint8_t condition_count = 0;
  ChangeCondition conditions[kMaxRuleConditions] = {};
};

/** @brief An ordered rule table, first matching rule wins (trivially copyable: passed by
 * value to kernels, about 2.3 KiB).
 *
 * Keeps the set of variables its rules read, which decides nodata (class 0) and tells the
 * pipeline which indices to compute for each epoch.
 */
class ChangeRules {
 public:
  /// Appends a rule; false (table unchanged) when the table is full or the rule is invalid:
  /// class 0 or 255, more than kMaxRuleConditions conditions, an unknown variable or
  /// operator, or a NaN threshold. host/io/rules.cpp reports each case by name first.
  bool add_rule(ChangeRule const& rule) noexcept {
    if (m_count >= kMaxChangeRules || !valid(rule)) return false;
    m_rules[m_count++] = rule;
    for (int c = 0; c < rule.condition_count; ++c) m_needed |= var_bit(rule.conditions[c].var);
    return true;
  }

  /// Convenience for building tables in code: add_rule with up to four conditions.
  bool add(std::uint8_t class_value, std::initializer_list<ChangeCondition> conditions) noexcept {
    if (conditions.size() > static_cast<std::size_t>(kMaxRuleConditions)) return false;
    ChangeRule rule;
    rule.class_value = class_value;
    for (ChangeCondition const& c : conditions) rule.conditions[rule.condition_count++] = c;
    return add_rule(rule);
  }

  RECLAIM_HD int size() const noexcept { return m_count; }
  RECLAIM_HD ChangeRule const& rule(int i) const noexcept { return m_rules[i]; }

  /// Bit set of the variables a pixel needs (bit i = ChangeVar i): ndvi_before, ndvi_after
  /// and every variable some rule reads.
  RECLAIM_HD std::uint32_t needed() const noexcept { return m_needed; }
  RECLAIM_HD bool needs(ChangeVar v) const noexcept { return (m_needed & var_bit(v)) != 0u; }
  /// Which indices the pipeline must compute for both epochs (NDVI always).
  RECLAIM_HD bool needs_bsi() const noexcept { return needs(ChangeVar::bsi_before) || needs(ChangeVar::bsi_after); }
  RECLAIM_HD bool needs_mndwi() const noexcept { return needs(ChangeVar::mndwi_before) || needs(ChangeVar::mndwi_after); }
  RECLAIM_HD bool needs_fvc() const noexcept { return needs(ChangeVar::fvc_before) || needs(ChangeVar::fvc_after); }

  RECLAIM_HD static constexpr std::uint32_t var_bit(ChangeVar v) noexcept {
    return std::uint32_t{1} << static_cast<int>(v);
  }

  static bool valid(ChangeRule const& rule) noexcept {
    if (rule.class_value == kClassNodata || rule.class_value == kClassUnclassified) return false;
    if (rule.condition_count > kMaxRuleConditions) return false;
    for (int c = 0; c < rule.condition_count; ++c) {
      ChangeCondition const& cond = rule.conditions[c];
      if (static_cast<int>(cond.var) >= kChangeVarCount || static_cast<int>(cond.op) >= kCompareOpCount) return false;
      if (is_nan(cond.threshold)) return false;
    }
    return true;
  }

 private:
  ChangeRule m_rules[kMaxChangeRules] = {};
  std::int32_t m_count = 0;
  // NDVI of both epochs is always needed: a masked pixel is NaN in every index, so this makes
  // every pixel masked in either epoch class 0, whatever the rules read (even an empty table).
  std::uint32_t m_needed = var_bit(ChangeVar::ndvi_before) | var_bit(ChangeVar::ndvi_after);
};

static_assert(std::is_trivially_copyable_v<ChangeRules>, "ChangeRules is passed by value to kernels");

/** @brief The thresholds of the default rules (sources and sides in docs/change.md).
 *
 * bare: NDVI < ndvi_bare and BSI > bsi_bare; vegetated: NDVI >= ndvi_vegetated, or
 * FVC >= fvc_vegetated when vegetated_by_fvc; water: MNDWI > mndwi_water; significant
 * gain: dNDVI >= dndvi_gain; loss: dNDVI <= dndvi_loss.
 */
struct ChangeThresholds {
  double ndvi_bare = 0.2;         ///< Sobrino et al. 2004 (NDVI < 0.2: bare soil)
  double bsi_bare = 0.0;          ///< Rikimaru et al. 2002 sign convention; the cut is a judgement
  double ndvi_vegetated = 0.4;    ///< judgement, between Sobrino's 0.2 (bare) and 0.5 (full cover)
  double fvc_vegetated = 0.5;     ///< judgement: at least half cover (Gutman & Ignatov 1998 FVC)
  double dndvi_gain = 0.15;       ///< judgement
  double dndvi_loss = -0.15;      ///< judgement, symmetric with the gain
  double mndwi_water = 0.0;       ///< Xu 2006
  bool vegetated_by_fvc = false;  ///< test vegetation with FVC instead of NDVI
};

/** @brief The default rule table, in order (first match wins):
 *
 *   6 water               mndwi_before > w
 *   6 water               mndwi_after > w
 *   5 vegetation loss     dndvi <= loss
 *   2 revegetated         ndvi_before < b, bsi_before > s, VEG_after
 *   3 partial recovery    dndvi >= gain, not VEG_after
 *   4 stable vegetation   VEG_before, VEG_after
 *   1 stable bare         ndvi_before < b, bsi_before > s, ndvi_after < b, bsi_after > s
 *
 * VEG_x is ndvi_x >= ndvi_vegetated (or fvc_x >= fvc_vegetated), "not VEG" its negation.
 * Anything else is 255 (unclassified). Returns 7 rules.
 */
inline ChangeRules default_change_rules(ChangeThresholds const& t = {}) noexcept {
  using V = ChangeVar;
  using O = CompareOp;
  bool const fvc = t.vegetated_by_fvc;
  ChangeCondition const veg_before = fvc ? ChangeCondition{V::fvc_before, O::ge, t.fvc_vegetated}
                                         : ChangeCondition{V::ndvi_before, O::ge, t.ndvi_vegetated};
  ChangeCondition const veg_after = fvc ? ChangeCondition{V::fvc_after, O::ge, t.fvc_vegetated}
                                        : ChangeCondition{V::ndvi_after, O::ge, t.ndvi_vegetated};
  ChangeCondition const not_veg_after = fvc ? ChangeCondition{V::fvc_after, O::lt, t.fvc_vegetated}
                                            : ChangeCondition{V::ndvi_after, O::lt, t.ndvi_vegetated};
  ChangeRules r;
  r.add(kClassWater, {{V::mndwi_before, O::gt, t.mndwi_water}});
  r.add(kClassWater, {{V::mndwi_after, O::gt, t.mndwi_water}});
  r.add(kClassVegetationLoss, {{V::dndvi, O::le, t.dndvi_loss}});
  r.add(kClassRevegetated, {{V::ndvi_before, O::lt, t.ndvi_bare}, {V::bsi_before, O::gt, t.bsi_bare}, veg_after});
  r.add(kClassPartialRecovery, {{V::dndvi, O::ge, t.dndvi_gain}, not_veg_after});
  r.add(kClassStableVegetation, {veg_before, veg_after});
  r.add(kClassStableBare, {{V::ndvi_before, O::lt, t.ndvi_bare},
                           {V::bsi_before, O::gt, t.bsi_bare},
                           {V::ndvi_after, O::lt, t.ndvi_bare},
                           {V::bsi_after, O::gt, t.bsi_bare}});
  return r;
}
inline constexpr int kDefaultChangeRuleCount = 7;

/// Classes of the magnitude-gated scheme (default_gated_rules) beyond 1..6; a scheme of its own,
/// so these values do not collide with a rules file's custom classes (which extend the rule scheme).
inline constexpr std::uint8_t kClassWaterGained = 7;
inline constexpr std::uint8_t kClassWaterLost = 8;
inline constexpr std::uint8_t kClassOtherChange = 9;
inline constexpr std::uint8_t kClassStableOther = 10;

/** @brief The magnitude-gated rule table (docs/change.md, "Change magnitude"): a pixel whose
 * change-vector magnitude is at least `magnitude_threshold` changed, and gets a direction class;
 * below it, a stable class. In order (first match wins), with m = magnitude, w, b, s, gain, loss
 * and VEG as in default_change_rules:
 *
 *   7 water gained       m >= t, mndwi_before <= w, mndwi_after > w
 *   8 water lost         m >= t, mndwi_before > w, mndwi_after <= w
 *   6 water (stable)     mndwi_before > w, mndwi_after > w
 *   2 revegetated        m >= t, ndvi_before < b, bsi_before > s, VEG_after
 *   5 vegetation loss    m >= t, dndvi <= loss
 *   3 partial recovery   m >= t, dndvi >= gain
 *   9 other change       m >= t
 *   4 stable vegetation  VEG_before, VEG_after
 *   1 stable bare        ndvi_before < b, bsi_before > s, ndvi_after < b, bsi_after > s
 *  10 stable, other      (every other pixel)
 *
 * Returns 10 rules.
 */
inline ChangeRules default_gated_rules(ChangeThresholds const& t, double magnitude_threshold) noexcept {
  using V = ChangeVar;
  using O = CompareOp;
  bool const fvc = t.vegetated_by_fvc;
  ChangeCondition const changed{V::magnitude, O::ge, magnitude_threshold};
  ChangeCondition const veg_before = fvc ? ChangeCondition{V::fvc_before, O::ge, t.fvc_vegetated}
                                         : ChangeCondition{V::ndvi_before, O::ge, t.ndvi_vegetated};
  ChangeCondition const veg_after = fvc ? ChangeCondition{V::fvc_after, O::ge, t.fvc_vegetated}
                                        : ChangeCondition{V::ndvi_after, O::ge, t.ndvi_vegetated};
  ChangeRules r;
  r.add(kClassWaterGained, {changed, {V::mndwi_before, O::le, t.mndwi_water}, {V::mndwi_after, O::gt, t.mndwi_water}});
  r.add(kClassWaterLost, {changed, {V::mndwi_before, O::gt, t.mndwi_water}, {V::mndwi_after, O::le, t.mndwi_water}});
  r.add(kClassWater, {{V::mndwi_before, O::gt, t.mndwi_water}, {V::mndwi_after, O::gt, t.mndwi_water}});
  r.add(kClassRevegetated, {changed, {V::ndvi_before, O::lt, t.ndvi_bare}, {V::bsi_before, O::gt, t.bsi_bare}, veg_after});
  r.add(kClassVegetationLoss, {changed, {V::dndvi, O::le, t.dndvi_loss}});
  r.add(kClassPartialRecovery, {changed, {V::dndvi, O::ge, t.dndvi_gain}});
  r.add(kClassOtherChange, {changed});
  r.add(kClassStableVegetation, {veg_before, veg_after});
  r.add(kClassStableBare, {{V::ndvi_before, O::lt, t.ndvi_bare},
                           {V::bsi_before, O::gt, t.bsi_bare},
                           {V::ndvi_after, O::lt, t.ndvi_bare},
                           {V::bsi_after, O::gt, t.bsi_bare}});
  r.add(kClassStableOther, {});
  return r;
}
inline constexpr int kGatedChangeRuleCount = 10;

/** @brief The class of one pixel: 0 when a needed variable (ChangeRules::needed) is NaN,
 * else the class of the first rule whose conditions all hold, else 255. `magnitude` is the
 * pixel's change-vector magnitude (NaN when the pass does not compute it).
 */
RECLAIM_HD inline std::uint8_t change_class(ChangeRules const& rules, EpochIndices const& before,
                                            EpochIndices const& after, double magnitude = nan_d()) noexcept {
  double const v[kChangeVarCount] = {before.ndvi, after.ndvi,  dndvi(before.ndvi, after.ndvi),
                                     before.bsi,  after.bsi,   before.mndwi,
                                     after.mndwi, before.fvc,  after.fvc,
                                     magnitude};
  std::uint32_t const needed = rules.needed();
  for (int i = 0; i < kChangeVarCount; ++i)
    if (((needed >> i) & 1u) != 0u && is_nan(v[i])) return kClassNodata;
  for (int r = 0; r < rules.size(); ++r) {
    ChangeRule const& rule = rules.rule(r);
    bool match = true;
    for (int c = 0; c < rule.condition_count && match; ++c)
      match = rule.conditions[c].holds(v[static_cast<int>(rule.conditions[c].var)]);
    if (match) return rule.class_value;
  }
  return kClassUnclassified;
}

/// Name and default colour (RGBA) of a class, for the class raster's category names and colour table.
struct ChangeClassStyle {
  std::uint8_t value;
  char const* name;
  std::uint8_t rgba[4];
};

/// The classes both schemes share. Nodata is transparent; the greens darken with cover.
namespace class_style {
inline constexpr ChangeClassStyle nodata{kClassNodata, "no data", {0, 0, 0, 0}};
inline constexpr ChangeClassStyle stable_bare{kClassStableBare, "stable bare", {191, 129, 45, 255}};
inline constexpr ChangeClassStyle revegetated{kClassRevegetated, "revegetated", {26, 152, 80, 255}};
inline constexpr ChangeClassStyle partial{kClassPartialRecovery, "partial recovery", {166, 217, 106, 255}};
inline constexpr ChangeClassStyle stable_vegetation{kClassStableVegetation, "stable vegetation", {0, 90, 50, 255}};
inline constexpr ChangeClassStyle loss{kClassVegetationLoss, "vegetation loss / new disturbance", {215, 48, 39, 255}};
inline constexpr ChangeClassStyle unclassified{kClassUnclassified, "unclassified", {190, 190, 190, 255}};
}  // namespace class_style

/// The default classes, ascending by value.
inline constexpr ChangeClassStyle kDefaultChangeClasses[] = {
    class_style::nodata,       class_style::stable_bare, class_style::revegetated,
    class_style::partial,      class_style::stable_vegetation, class_style::loss,
    {kClassWater, "water", {49, 130, 189, 255}},
    class_style::unclassified,
};

/// The classes of the magnitude-gated scheme (default_gated_rules), ascending by value.
inline constexpr ChangeClassStyle kGatedChangeClasses[] = {
    class_style::nodata,
    class_style::stable_bare,
    class_style::revegetated,
    class_style::partial,
    class_style::stable_vegetation,
    class_style::loss,
    {kClassWater, "water (stable)", {49, 130, 189, 255}},
    {kClassWaterGained, "water gained", {107, 174, 214, 255}},
    {kClassWaterLost, "water lost", {8, 48, 107, 255}},
    {kClassOtherChange, "other change", {152, 78, 163, 255}},
    {kClassStableOther, "stable, other", {224, 224, 224, 255}},
    class_style::unclassified,
};

}  // namespace reclaim::pixel
