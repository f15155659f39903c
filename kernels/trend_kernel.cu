#include "kernels/trend_kernel.cuh"

#include <algorithm>
#include <cstdint>

#include "host/cuda/cuda_raii.hpp"
#include "reclaim/error.hpp"

namespace reclaim::kernels {
namespace {

constexpr int kBlock = 128;

// One thread per pixel in a grid-stride loop with a 64-bit index, running the same
// compute_trend_pixel as the CPU reference. The O(n^2) pair statistics keep O(1) state per
// thread (no array of pair slopes), so nothing goes to local memory for any n <= kMaxEpochs:
// check with -Xptxas -v (0 bytes stack frame, 0 bytes spill). The epoch years, read by every
// thread in the same order, sit in shared memory (8 KiB at kMaxEpochs = 1024); the parameters
// are a __grid_constant__ (about 8.4 KiB: beyond the old 4 KiB limit, within the 32 KiB that
// CUDA 12.1+ allows on sm_70 and later), so taking their address (compute_trend_pixel takes
// them by reference) makes no local copy.
// __launch_bounds__(kBlock, 1) lets ptxas use the ~160 registers the unrolled counting pass
// wants; with __launch_bounds__(kBlock) alone it aims at 128 and spills.
static_assert(sizeof(pixel::TrendParams) <= 32764, "kernel parameters are limited to 32764 bytes (CUDA 12.1+)");

template <class Out>
__global__ void __launch_bounds__(kBlock, 1) trend_kernel(__grid_constant__ pixel::TrendParams const params,
                                                       float const* __restrict__ in, Out* __restrict__ out,
                                                       std::size_t pixels) {
  __shared__ double years[pixel::kMaxEpochs];
  for (int e = static_cast<int>(threadIdx.x); e < params.epoch_count; e += static_cast<int>(blockDim.x))
    years[e] = params.years[e];
  __syncthreads();
  std::size_t const stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pixels; i += stride)
    pixel::compute_trend_pixel(params, years, in, out, pixels, i);
}

template <class Out>
void launch(pixel::TrendParams const& params, float const* d_in, Out* d_out, std::size_t pixels,
            cudaStream_t stream) {
  RECLAIM_EXPECTS(params.epoch_count >= 0 && params.epoch_count <= pixel::kMaxEpochs,
                  "trend: epoch_count outside 0..kMaxEpochs");
  if (pixels == 0 || params.output_count == 0) return;
  // Enough blocks to fill the device several times over; the stride loop covers the rest.
  auto const blocks = static_cast<unsigned>(std::min<std::size_t>((pixels + kBlock - 1) / kBlock, 65535u * 4u));
  trend_kernel<Out><<<blocks, kBlock, 0, stream>>>(params, d_in, d_out, pixels);
  RECLAIM_CHECK_KERNEL(stream, "trend_kernel (compute_trend_pixel)");
}

}  // namespace

void trend_async(pixel::TrendParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                 cudaStream_t stream) {
  launch(params, d_in, d_out, pixels, stream);
}

void trend_async(pixel::TrendParams const& params, float const* d_in, double* d_out, std::size_t pixels,
                 cudaStream_t stream) {
  launch(params, d_in, d_out, pixels, stream);
}

}  // namespace reclaim::kernels
