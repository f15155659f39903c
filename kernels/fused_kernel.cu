#include "kernels/fused_kernel.cuh"

#include <algorithm>
#include <cstdint>

namespace reclaim::kernels {
namespace {

// One thread per pixel in a grid-stride loop with a 64-bit index; the math is the same
// compute_pixel the CPU backend runs (bit-identical: -fmad=false, IEEE div and sqrt).
__global__ void fused_indices_kernel(pixel::FusedParams const params, float const* __restrict__ in,
                                     float* __restrict__ out, std::size_t pixels) {
  std::size_t const stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pixels; i += stride)
    pixel::compute_pixel(params, in, out, pixels, i);
}

__global__ void change_kernel(pixel::ChangeParams const params, float const* __restrict__ in, float* __restrict__ out,
                              std::size_t pixels) {
  std::size_t const stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pixels; i += stride)
    pixel::compute_change_pixel(params, in, out, pixels, i);
}

__global__ void band_kernel(pixel::BandParams const params, float const* __restrict__ in, float* __restrict__ out,
                            std::size_t pixels) {
  std::size_t const stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < pixels; i += stride)
    pixel::compute_band_pixel(params, in, out, i);
}

constexpr int kBlock = 256;

/// Enough blocks to fill the device several times over; the stride loop covers the rest.
unsigned grid_for(std::size_t pixels) {
  return static_cast<unsigned>(std::min<std::size_t>((pixels + kBlock - 1) / kBlock, 65535u * 4u));
}

}  // namespace

void band_async(pixel::BandParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                cudaStream_t stream) {
  if (pixels == 0) return;
  band_kernel<<<grid_for(pixels), kBlock, 0, stream>>>(params, d_in, d_out, pixels);
}

void change_async(pixel::ChangeParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                  cudaStream_t stream) {
  if (pixels == 0) return;
  change_kernel<<<grid_for(pixels), kBlock, 0, stream>>>(params, d_in, d_out, pixels);
}

void fused_indices_async(pixel::FusedParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                         cudaStream_t stream) {
  if (pixels == 0) return;
  fused_indices_kernel<<<grid_for(pixels), kBlock, 0, stream>>>(params, d_in, d_out, pixels);
}

}  // namespace reclaim::kernels
