#pragma once
/** @file
 * @brief Process-wide GDAL settings for a run (no GDAL types: the CLI includes this).
 */
#include <cstddef>

namespace reclaim::io {

/// Registers GDAL's drivers and caps its block cache: the scheduler's tile buffers are the
/// working set, so the cache only smooths reads of partial blocks.
void configure_gdal(std::size_t cache_bytes);

}  // namespace reclaim::io
