#include "cli/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
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

int EventLog::new_decile(double fraction) {
  int const decile = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 10.0 + 1e-9);
  if (decile <= m_decile) return -1;
  m_decile = decile;
  return decile;
}

void EventLog::progress_line(std::string const& text) {
  if (m_tty) {
    std::fprintf(stderr, "\r%s   ", text.c_str());
    m_line_open = true;
  } else {
    text_logger()->info(text);
  }
  std::fflush(stderr);
}

void EventLog::progress(std::string_view label, Progress const& p, std::string_view then) {
  auto const now = std::chrono::steady_clock::now();
  bool const last = p.tiles_done == p.tiles_total;
  if (p.tiles_done <= 1) m_decile = 0;  // a new pass
  double const mpx_per_s = p.elapsed_seconds > 0 ? static_cast<double>(p.pixels_done) / 1e6 / p.elapsed_seconds : 0;
  double const eta = p.tiles_done > 0 ? p.elapsed_seconds * static_cast<double>(p.tiles_total - p.tiles_done) /
                                            static_cast<double>(p.tiles_done)
                                      : 0;
  if (m_format == LogFormat::json) {
    if (!last && now - m_last_update < std::chrono::seconds(1)) return;
    m_last_update = now;
    event("progress", {{"label", label},
                       {"tiles_done", p.tiles_done},
                       {"tiles_total", p.tiles_total},
                       {"mpixels_per_s", mpx_per_s},
                       {"eta_s", eta}});
    return;
  }
  if (m_quiet) return;
  std::string const suffix = then.empty() ? std::string() : " + " + std::string(then);
  char buf[256];
  if (m_tty) {
    if (!last && now - m_last_update < std::chrono::milliseconds(200)) return;
    m_last_update = now;
    std::snprintf(buf, sizeof buf, "%.*s: tiles %lld/%lld  %.1f Mpixel/s  ETA %.0f s%s", static_cast<int>(label.size()),
                  label.data(), static_cast<long long>(p.tiles_done), static_cast<long long>(p.tiles_total), mpx_per_s,
                  eta, suffix.c_str());
  } else {
    double const fraction =
        p.tiles_total > 0 ? static_cast<double>(p.tiles_done) / static_cast<double>(p.tiles_total) : 1.0;
    int const decile = new_decile(last ? 1.0 : fraction);
    if (decile < 0) return;
    if (last)
      std::snprintf(buf, sizeof buf, "%.*s: 100%% (%lld/%lld tiles, %.1f Mpixel/s, %.1f s%s)",
                    static_cast<int>(label.size()), label.data(), static_cast<long long>(p.tiles_done),
                    static_cast<long long>(p.tiles_total), mpx_per_s, p.elapsed_seconds,
                    then.empty() ? "" : (", then " + std::string(then)).c_str());
    else
      std::snprintf(buf, sizeof buf, "%.*s: %d%% (%lld/%lld tiles, %.1f Mpixel/s, ETA %.0f s%s)",
                    static_cast<int>(label.size()), label.data(), decile * 10, static_cast<long long>(p.tiles_done),
                    static_cast<long long>(p.tiles_total), mpx_per_s, eta, suffix.c_str());
  }
  progress_line(buf);
}

void EventLog::finishing(std::string_view label, std::string const& step) {
  m_decile = 0;
  m_step_start = std::chrono::steady_clock::now();
  event("finishing", {{"label", label}, {"step", step}}, std::string(label) + ": finishing: " + step);
}

void EventLog::finish_progress(std::string_view label, double fraction) {
  if (m_format == LogFormat::json || m_quiet) return;
  auto const now = std::chrono::steady_clock::now();
  bool const last = fraction >= 1.0;
  double const elapsed = std::chrono::duration<double>(now - m_step_start).count();
  double const eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  char buf[160];
  if (m_tty) {
    if (!last && now - m_last_update < std::chrono::milliseconds(200)) return;
    m_last_update = now;
    std::snprintf(buf, sizeof buf, "%.*s: finishing %.0f%%  ETA %.0f s", static_cast<int>(label.size()), label.data(),
                  100 * std::clamp(fraction, 0.0, 1.0), eta);
  } else {
    int const decile = new_decile(fraction);
    if (decile < 0) return;
    if (last)
      std::snprintf(buf, sizeof buf, "%.*s: finishing 100%% (%.1f s)", static_cast<int>(label.size()), label.data(),
                    elapsed);
    else
      std::snprintf(buf, sizeof buf, "%.*s: finishing %d%% (ETA %.0f s)", static_cast<int>(label.size()), label.data(),
                    decile * 10, eta);
  }
  progress_line(buf);
}

void EventLog::end_progress() {
  if (m_line_open) {
    std::fprintf(stderr, "\n");
    m_line_open = false;
  }
}

}  // namespace reclaim::cli
