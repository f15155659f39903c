#pragma once
/** @file
 * @brief How many CPUs this process may use: the default of every thread pool.
 */

namespace reclaim {

/** @brief CPUs the process may run on: its affinity mask (taskset, Slurm's cpuset) and, when
 * set, its cgroup v2 CPU quota (`cpu.max`, rounded up), whichever is smaller; at least 1.
 * (std::thread::hardware_concurrency counts every CPU of the machine, whatever the mask.) */
[[nodiscard]] int available_cpus() noexcept;

/// `requested` when positive (--threads N), else available_cpus().
[[nodiscard]] inline int thread_count(int requested) noexcept { return requested > 0 ? requested : available_cpus(); }

}  // namespace reclaim
