// CPU/GPU parity of change_class: the kernel and the host run the same rule table on the
// same pixels and must give identical classes. Pixels are drawn from values at, one ULP
// either side of, and away from every default threshold, plus NaN, so that any difference
// in comparison or subtraction rounding between host and device shows up.
//
// Needs a CUDA device; skips (exit code 0) without one.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "reclaim/pixel/change.hpp"
#include "tests/pixel/change_parity_inputs.hpp"

namespace {

using namespace reclaim::pixel;

__global__ void classify_kernel(ChangeRules rules, EpochIndices const* before, EpochIndices const* after,
                                std::uint8_t* out, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(blockDim.x) * gridDim.x)
    out[i] = change_class(rules, before[i], after[i]);
}

bool has_device() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

#define CUDA_OK(call) ASSERT_EQ((call), cudaSuccess) << #call

void run_parity(ChangeRules const& rules) {
  auto const in = reclaim::test::change_parity_input();
  auto const& before = in.before;
  auto const& after = in.after;
  std::size_t const n = before.size();
  std::vector<std::uint8_t> const cpu = reclaim::test::change_reference(rules, in);
  // Before any GPU work (and on the CPU, where no GPU runs, in tests/kernels/parity_inputs_test.cpp).
  ASSERT_TRUE(reclaim::test::change_reference_non_vacuous(cpu));
  std::vector<std::uint8_t> gpu(n);

  EpochIndices *d_before = nullptr, *d_after = nullptr;
  std::uint8_t* d_out = nullptr;
  CUDA_OK(cudaMalloc(&d_before, n * sizeof(EpochIndices)));
  CUDA_OK(cudaMalloc(&d_after, n * sizeof(EpochIndices)));
  CUDA_OK(cudaMalloc(&d_out, n));
  CUDA_OK(cudaMemcpy(d_before, before.data(), n * sizeof(EpochIndices), cudaMemcpyHostToDevice));
  CUDA_OK(cudaMemcpy(d_after, after.data(), n * sizeof(EpochIndices), cudaMemcpyHostToDevice));
  classify_kernel<<<256, 256>>>(rules, d_before, d_after, d_out, n);
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaMemcpy(gpu.data(), d_out, n, cudaMemcpyDeviceToHost));
  cudaFree(d_before);
  cudaFree(d_after);
  cudaFree(d_out);

  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (cpu[i] != gpu[i] && ++mismatches <= 5)
      ADD_FAILURE() << "pixel " << i << ": cpu " << int(cpu[i]) << " gpu " << int(gpu[i]);
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(ChangeParity, DefaultRulesIdenticalOnCpuAndGpu) {
  if (!has_device()) GTEST_SKIP() << "no CUDA device: change parity skipped";
  run_parity(default_change_rules());
}

TEST(ChangeParity, FvcRulesIdenticalOnCpuAndGpu) {
  if (!has_device()) GTEST_SKIP() << "no CUDA device: change parity skipped";
  run_parity(reclaim::test::change_fvc_rules());
}

}  // namespace
