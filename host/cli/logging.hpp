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
  /// Called for every finished tile. On a terminal: one line redrawn a few times a second; in
  /// a log (stderr not a terminal): a line at each 10 % step, so at most 10 lines a pass, the
  /// last at 100 %. `then`: the work that follows the pass (e.g. "encoding"), named with the ETA.
  void progress(std::string_view label, Progress const& p, std::string_view then = {});
  /// A step after the pass (encoding COGs, writing tables): one line, then finish_progress.
  void finishing(std::string_view label, std::string const& step);
  /// The fraction (0..1) of the current finishing step done, reported like progress().
  void finish_progress(std::string_view label, double fraction);
  /// Ends the terminal progress line.
  void end_progress();

 private:
  /// The 10 % step of `fraction` (0..10), or -1 when this step was already reported.
  int new_decile(double fraction);
  void progress_line(std::string const& text);

  LogFormat m_format;
  bool m_quiet;
  bool m_tty;
  bool m_line_open = false;
  std::chrono::steady_clock::time_point m_last_update{};
  int m_decile = 0;  ///< the last 10 % step reported in the current pass or step
  std::chrono::steady_clock::time_point m_step_start{};
};

}  // namespace reclaim::cli
