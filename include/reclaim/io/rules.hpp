#pragma once
/** @file
 * @brief Change-classification rules files (JSON or TOML) -> the rule table and class styles.
 *
 * Format and semantics: docs/change.md. Every problem (unreadable file, syntax error,
 * unknown key, unknown variable, bad operator, class value out of range, too many rules or
 * conditions) is a reclaim::input_error whose message starts with `rules file '<path>':`.
 */
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "reclaim/pixel/change.hpp"

namespace reclaim::io {

/// Name and RGBA colour of one class value.
struct ChangeClassInfo {
  std::uint8_t value = 0;
  std::string name;
  std::array<std::uint8_t, 4> rgba{};
};

/// Where a rules file's rules go relative to the default rules (first match wins).
enum class RulesMode {
  append,   ///< after the defaults: custom classes only take pixels no default rule matched
  prepend,  ///< before the defaults (before water too)
  replace,  ///< instead of the defaults
};

/// A complete classification scheme: the kernel's rule table plus what the class raster's
/// colour table and category names need.
struct ChangeScheme {
  pixel::ChangeRules rules;
  pixel::ChangeThresholds thresholds;   ///< thresholds the default rules were built with
  RulesMode mode = RulesMode::append;
  std::vector<ChangeClassInfo> classes;  ///< ascending by value; always holds 0 and 255

  /// Category names indexed by class value (size 256, "" for unused values), for
  /// io::OutputRaster::category_names.
  [[nodiscard]] std::vector<std::string> category_names() const;
  /// RGBA colours indexed by class value (size 256, transparent black for unused values),
  /// for io::OutputRaster::colors.
  [[nodiscard]] std::vector<std::array<std::uint8_t, 4>> colors() const;
  /// The class with this value, or nullptr.
  [[nodiscard]] ChangeClassInfo const* find_class(std::uint8_t value) const noexcept;
};

enum class RulesFormat { json, toml };

/// The built-in scheme: default_change_rules() and kDefaultChangeClasses.
ChangeScheme default_change_scheme();

/// The magnitude-gated scheme: default_gated_rules() and kGatedChangeClasses.
ChangeScheme gated_change_scheme(pixel::ChangeThresholds const& thresholds, double magnitude_threshold);

/** @brief Loads a rules file. The format follows the extension (.json, .toml); any other
 * extension is JSON when the first non-blank character is `{`, TOML otherwise.
 * @throws reclaim::input_error naming the file and the problem
 */
ChangeScheme load_change_rules(std::filesystem::path const& path);

/// Parses rules text; `source` names it in error messages (normally the file path).
ChangeScheme parse_change_rules(std::string_view text, RulesFormat format, std::string const& source);

/// One rule as text, e.g. "2 revegetated: ndvi_before < 0.2 and bsi_before > 0 and ndvi_after >= 0.4",
/// for logs and manifests.
std::string describe_rule(ChangeScheme const& scheme, pixel::ChangeRule const& rule);

}  // namespace reclaim::io
