#include "cli/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace reclaim::cli {
namespace {

std::shared_ptr<spdlog::logger> text_logger() {
  static auto logger = [] {
    auto l = spdlog::stderr_logger_mt("reclaim");
    l->set_pattern("reclaim: %^%v%$");
    return l;
  }();
  return logger;
}

std::string utc_now() {
  std::time_t const t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

EventLog::EventLog(LogFormat format, bool quiet)
    : m_format(format), m_quiet(quiet), m_tty(::isatty(STDERR_FILENO) != 0) {}

void EventLog::event(std::string_view name, nlohmann::json fields, std::string const& message) {
  if (m_format == LogFormat::json) {
    nlohmann::json line = {{"time", utc_now()}, {"event", name}};
    line.update(fields);
    std::fprintf(stderr, "%s\n", line.dump().c_str());
    std::fflush(stderr);
    return;
  }
  if (m_quiet || message.empty()) return;
  end_progress();
  text_logger()->info(message);
}

void EventLog::warning(std::string const& message) {
  if (m_format == LogFormat::json) {
    event("warning", {{"message", message}});
    return;
  }
  end_progress();
  text_logger()->warn("warning: " + message);
}

void EventLog::progress(std::string_view label, Progress const& p) {
  auto const now = std::chrono::steady_clock::now();
  bool const last = p.tiles_done == p.tiles_total;
  if (!last && now - m_last_update < std::chrono::milliseconds(m_format == LogFormat::json ? 1000 : 200)) return;
  m_last_update = now;
  double const mpx_per_s = p.elapsed_seconds > 0 ? static_cast<double>(p.pixels_done) / 1e6 / p.elapsed_seconds : 0;
  double const eta = p.tiles_done > 0 ? p.elapsed_seconds * static_cast<double>(p.tiles_total - p.tiles_done) /
                                            static_cast<double>(p.tiles_done)
                                      : 0;
  if (m_format == LogFormat::json) {
    event("progress", {{"label", label},
                       {"tiles_done", p.tiles_done},
                       {"tiles_total", p.tiles_total},
                       {"mpixels_per_s", mpx_per_s},
                       {"eta_s", eta}});
    return;
  }
  if (m_quiet || !m_tty) return;
  std::fprintf(stderr, "\r%.*s: tiles %lld/%lld  %.1f Mpixel/s  ETA %.0f s   ", static_cast<int>(label.size()),
               label.data(), static_cast<long long>(p.tiles_done), static_cast<long long>(p.tiles_total), mpx_per_s,
               eta);
  std::fflush(stderr);
  m_line_open = true;
}

void EventLog::end_progress() {
  if (m_line_open) {
    std::fprintf(stderr, "\n");
    m_line_open = false;
  }
}

}  // namespace reclaim::cli
