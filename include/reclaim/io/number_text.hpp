#pragma once
/** @file
 * @brief The one way numbers are written as text in reclaim's tables and messages.
 */
#include <charconv>
#include <string>

namespace reclaim::io {

/** The shortest text that reads back as exactly `v` (std::to_chars): `193.08`, not the
 * `193.08000000000001` of 17 significant digits; a table re-read gives the same doubles. */
[[nodiscard]] inline std::string shortest_text(double v) {
  char buf[32];  // the longest shortest form of a double is 24 characters
  auto const res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace reclaim::io
