#include "reclaim/cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

namespace reclaim {
namespace {

/// ceil(quota / period) from a cgroup v2 cpu.max ("max 100000" or "150000 100000"); 0: no limit.
int cgroup_quota_cpus(std::string const& file) {
  std::ifstream in(file);
  std::string quota;
  double period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return 0;
  try {
    double const cpus = std::stod(quota) / period;
    return cpus > 0 ? std::max(1, static_cast<int>(std::ceil(cpus))) : 0;
  } catch (...) {
    return 0;
  }
}

/// The quota of this process's own cgroup (v2: the "0::/path" line), else of the root one.
int cgroup_cpus() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) {
      std::string const path = line.substr(3);
      if (int const n = cgroup_quota_cpus("/sys/fs/cgroup" + (path == "/" ? std::string() : path) + "/cpu.max")) return n;
    }
  return cgroup_quota_cpus("/sys/fs/cgroup/cpu.max");
}

}  // namespace

int available_cpus() noexcept {
  int n = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  try {
    if (int const quota = cgroup_cpus(); quota > 0) n = std::min(n, quota);
  } catch (...) {  // unreadable cgroup files: the mask alone
  }
  return std::max(1, n);
}

}  // namespace reclaim
