#pragma once
/** @file
 * @brief The CUDA backend (only in builds with RECLAIM_HAVE_CUDA).
 */
#include <memory>

#include "reclaim/backend.hpp"

namespace reclaim {

/// Devices usable by this process; 0 when there is no driver or no GPU (never throws).
[[nodiscard]] int cuda_device_count() noexcept;

/** @brief A backend on one GPU: `streams` workers, each with its own stream and device
 * buffers, so one tile's copies overlap another's kernel. Host buffers are pinned.
 * Throws reclaim::cuda_error when the device cannot be used. */
[[nodiscard]] std::unique_ptr<Backend> make_cuda_backend(int device, int streams = 2);

}  // namespace reclaim
