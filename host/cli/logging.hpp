#pragma once
// Run events for people (text on stderr, a progress line on a terminal) and for
// orchestration scripts (--log-format json: one JSON object per line on stderr).
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "reclaim/scheduler.hpp"

namespace reclaim::cli {

enum class LogFormat { text, json };

class EventLog {
 public:
  EventLog(LogFormat format, bool quiet);
  /// A named event with fields; text mode prints `message` (if any) as one line.
  void event(std::string_view name, nlohmann::json fields, std::string const& message = {});
  void warning(std::string const& message);
  /// Called for every finished tile; throttled to a few updates a second.
  void progress(std::string_view label, Progress const& p);
  /// Ends the terminal progress line.
  void end_progress();

 private:
  LogFormat m_format;
  bool m_quiet;
  bool m_tty;
  bool m_line_open = false;
  std::chrono::steady_clock::time_point m_last_update{};
};

}  // namespace reclaim::cli
