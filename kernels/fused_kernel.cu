#include "kernels/fused_kernel.cuh"

#include "host/cuda/cuda_raii.hpp"
#include "kernels/for_each_pixel.cuh"
#include "reclaim/pixel/per_pixel.hpp"

// Every pass here is one functor of pixel/per_pixel.hpp run by for_each_pixel_async: the same
// functor the CPU backend loops over, so both run the same formula (bit-identical with
// -fmad=false and IEEE division and square root, see CMakeLists.txt).
namespace reclaim::kernels {
namespace {

/// One launch's parameter block in device memory (the functors hold it by pointer, see
/// pixel/per_pixel.hpp). Stream-ordered: allocated, filled, read by the kernel and freed on
/// `stream`, in that order; the pageable source is staged before cudaMemcpyAsync returns.
template <class Params>
class LaunchParams {
 public:
  LaunchParams(Params const& params, cudaStream_t stream) : m_buffer(1, stream) {
    RECLAIM_CUDA_TRY(cudaMemcpyAsync(m_buffer.data(), &params, sizeof params, cudaMemcpyHostToDevice, stream));
  }
  [[nodiscard]] Params const* get() const noexcept { return m_buffer.data(); }

 private:
  cuda::DeviceBuffer<Params> m_buffer;
};

}  // namespace

void band_async(pixel::BandParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                cudaStream_t stream) {
  for_each_pixel_async("band (compute_band_pixel)", pixels, pixel::BandPixel{params, d_in, d_out, pixels}, stream);
}

void change_async(pixel::ChangeParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                  cudaStream_t stream) {
  if (pixels == 0) return;
  LaunchParams<pixel::ChangeParams> const d_params(params, stream);
  for_each_pixel_async("change (compute_change_pixel)", pixels,
                       pixel::ChangePixel{d_params.get(), d_in, d_out, pixels, pixels}, stream);
}

void fused_indices_async(pixel::FusedParams const& params, float const* d_in, float* d_out, std::size_t pixels,
                         cudaStream_t stream) {
  if (pixels == 0) return;
  LaunchParams<pixel::FusedParams> const d_params(params, stream);
  for_each_pixel_async("fused_indices (compute_pixel)", pixels,
                       pixel::FusedPixel{d_params.get(), d_in, d_out, pixels, pixels}, stream);
}

void threshold_classes_async(float const* d_in, float* d_out, float threshold, std::size_t pixels,
                             cudaStream_t stream) {
  for_each_pixel_async("threshold_classes (threshold_class)", pixels,
                       pixel::ThresholdClassPixel{d_in, d_out, threshold}, stream);
}

}  // namespace reclaim::kernels
