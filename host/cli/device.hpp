#pragma once
#include <memory>
#include <string>

#include "reclaim/backend.hpp"

namespace reclaim::cli {

/** @brief The backend for --device auto|cpu|cuda[:N]. auto picks CUDA device 0 when this
 * build has CUDA and a device is present, else the CPU. Throws usage_error for a bad spec,
 * cuda_error when CUDA is demanded but unavailable. */
std::unique_ptr<Backend> make_backend(std::string const& spec, int cpu_threads);

}  // namespace reclaim::cli
