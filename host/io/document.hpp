#pragma once
// JSON and TOML documents (job files, grade tables, rules files) as one JSON value: the single
// TOML-to-JSON conversion, node by node (no text round trip through a formatter).
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace reclaim::io {

/// A value JSON cannot hold (a TOML date or time) at `where` (dotted key path, [i] for items).
struct DocumentError : std::runtime_error {
  DocumentError(std::string where_, std::string const& problem) : std::runtime_error(problem), where(std::move(where_)) {}
  std::string where;
};

/// TOML to JSON; throws DocumentError for dates and times.
[[nodiscard]] nlohmann::json toml_to_json(toml::node const& node, std::string const& where = "");

/// JSON text as one value. A number beyond double's range (1e999), which the parser refuses,
/// throws DocumentError naming its key path; a syntax error throws nlohmann::json::parse_error.
[[nodiscard]] nlohmann::json parse_json(std::string_view text, bool ignore_comments = false);

/// "TOML syntax error at line L, column C (key K): what" for a parse error in `text`; K, the
/// key written at the start of that line, when it has one.
[[nodiscard]] std::string toml_error_text(toml::parse_error const& error, std::string_view text);

/// Reads `path` (.toml as TOML, anything else as JSON). Throws input_error
/// "<kind> '<path>': <problem>" when it cannot be read or parsed.
[[nodiscard]] nlohmann::json read_document(std::filesystem::path const& path, std::string const& kind);

}  // namespace reclaim::io
