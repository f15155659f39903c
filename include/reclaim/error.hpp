#pragma once
/** @file
 * @brief Exception types and the checking macros. The CLI maps each type to an exit code
 * (docs/cli.md): usage 2, input 3, io 4, cuda 5, anything else 1 (and reclaim::interrupted_error,
 * reclaim/interrupt.hpp, 128 + its signal).
 */
#include <stdexcept>
#include <string>

namespace reclaim {

/// Bad command-line option or request, before any file is touched.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A bad input: missing/unreadable file, wrong band count, grids that do not nest. Names the file.
struct input_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// Reading or writing failed underneath us (GDAL error, disk full). Names the file.
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A CUDA runtime error, or no usable device where one was demanded.
struct cuda_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
/// A broken internal invariant: a bug in reclaim.
struct logic_error : std::logic_error {
  using std::logic_error::logic_error;
};

}  // namespace reclaim

#define RECLAIM_STRINGIFY_DETAIL(x) #x
#define RECLAIM_STRINGIFY(x) RECLAIM_STRINGIFY_DETAIL(x)

/// Checks an internal invariant; throws reclaim::logic_error with file:line when it fails.
#define RECLAIM_EXPECTS(cond, msg)                                                                  \
  do {                                                                                              \
    if (!(cond))                                                                                    \
      throw ::reclaim::logic_error(std::string(__FILE__ ":" RECLAIM_STRINGIFY(__LINE__) ": ") + (msg)); \
  } while (0)
