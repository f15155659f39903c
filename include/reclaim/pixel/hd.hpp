#pragma once
/** @file
 * @brief Host/device qualifiers and small numeric helpers shared by both backends.
 *
 * Everything under include/reclaim/pixel/ is compiled twice: by g++ for the CPU
 * backend and by nvcc for the CUDA kernels. Keep it free of std:: calls that have
 * no device version.
 */
#include <cstdint>

#ifdef __CUDACC__
#define RECLAIM_HD __host__ __device__
#else
#define RECLAIM_HD
#endif

namespace reclaim::pixel {

/// Quiet NaN, the nodata value of every Float32 product.
RECLAIM_HD inline float nan_f() noexcept { return __builtin_nanf(""); }

/// Quiet NaN in double, for the intermediate (double-precision) index arithmetic.
RECLAIM_HD inline double nan_d() noexcept { return __builtin_nan(""); }

/// +infinity in double.
RECLAIM_HD inline double inf_d() noexcept { return __builtin_inf(); }

RECLAIM_HD inline bool is_nan(float v) noexcept { return v != v; }
RECLAIM_HD inline bool is_nan(double v) noexcept { return v != v; }

/// The bits of a double, and back (the device intrinsics on the GPU, a bit cast on the host).
RECLAIM_HD inline std::uint64_t double_bits(double x) noexcept {
#ifdef __CUDA_ARCH__
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  return __builtin_bit_cast(std::uint64_t, x);
#endif
}

RECLAIM_HD inline double bits_double(std::uint64_t b) noexcept {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(b));
#else
  return __builtin_bit_cast(double, b);
#endif
}

}  // namespace reclaim::pixel
