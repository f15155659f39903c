# Trend statistics: included by tests/CMakeLists.txt (paths relative to tests/).
#
# Also runs as a script (cmake -DRECLAIM_TREND_NVCC=... -P trend.cmake): compiles the trend
# kernel with -Xptxas -v and fails unless every trend kernel has a 0-byte stack frame and no
# spill stores or loads (nothing in local memory). Needs nvcc, not a GPU.
if(DEFINED RECLAIM_TREND_NVCC)
  execute_process(COMMAND ${RECLAIM_TREND_NVCC} -std=c++20 -O3 -arch=sm_${RECLAIM_TREND_ARCH} -fmad=false
                          --expt-relaxed-constexpr -I${RECLAIM_TREND_ROOT}/include -I${RECLAIM_TREND_ROOT}
                          -Xptxas -v -c ${RECLAIM_TREND_ROOT}/kernels/trend_kernel.cu -o ${RECLAIM_TREND_OBJECT}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "nvcc failed:\n${out}${err}")
  endif()
  string(REGEX MATCHALL "Function properties for [^\n]*trend_kernel[^\n]*\n[^\n]*\n[^\n]*" kernels "${err}")
  list(LENGTH kernels count)
  if(count EQUAL 0)
    message(FATAL_ERROR "no trend_kernel in the ptxas output:\n${err}")
  endif()
  foreach(kernel IN LISTS kernels)
    message(STATUS "${kernel}")
    if(NOT kernel MATCHES " 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads")
      message(FATAL_ERROR "a trend kernel uses local memory:\n${kernel}")
    endif()
  endforeach()
  return()
endif()

# ---- CPU: hand-worked values, brute force, std::erfc (gtest) ----------------------------------
add_executable(trend_test pixel/trend_test.cpp)
target_link_libraries(trend_test PRIVATE reclaim::pixel GTest::gtest_main)
reclaim_compile_options(trend_test)
gtest_discover_tests(trend_test PROPERTIES LABELS pixel TIMEOUT 120)

# ---- CPU: scipy on random series, through a probe reading series from stdin --------------------
add_executable(trend_probe pixel/trend_probe.cpp)
target_link_libraries(trend_probe PRIVATE reclaim::pixel)
reclaim_compile_options(trend_probe)

find_program(RECLAIM_TREND_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(RECLAIM_TREND_PYTHON)
  execute_process(COMMAND ${RECLAIM_TREND_PYTHON} -c "import numpy, scipy.stats, pytest"
                  RESULT_VARIABLE reclaim_trend_py_ok OUTPUT_QUIET ERROR_QUIET)
endif()
if(RECLAIM_TREND_PYTHON AND reclaim_trend_py_ok EQUAL 0)
  add_test(NAME trend_scipy
           COMMAND ${RECLAIM_TREND_PYTHON} -m pytest -q -rs -p no:cacheprovider
                   ${CMAKE_CURRENT_SOURCE_DIR}/pixel/test_trend_scipy.py)
  set_tests_properties(trend_scipy PROPERTIES
    LABELS pixel TIMEOUT 300
    ENVIRONMENT "RECLAIM_TREND_PROBE=$<TARGET_FILE:trend_probe>;PYTHONDONTWRITEBYTECODE=1")
else()
  message(WARNING "reclaim: /usr/bin/python3 with numpy, scipy and pytest not found; trend_scipy test skipped")
endif()

# ---- GPU: CPU/GPU parity (skips without a device), and a no-local-memory check -----------------
if(RECLAIM_HAVE_CUDA)
  add_executable(trend_kernels_test kernels/trend_parity_test.cu)
  target_include_directories(trend_kernels_test PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(trend_kernels_test PRIVATE reclaim::cuda GTest::gtest_main)
  reclaim_compile_options(trend_kernels_test)
  gtest_discover_tests(trend_kernels_test DISCOVERY_MODE PRE_TEST PROPERTIES LABELS gpu TIMEOUT 300)

  # Needs no GPU: ptxas's resource report for the architecture built here.
  list(GET CMAKE_CUDA_ARCHITECTURES 0 reclaim_trend_arch)
  string(REGEX REPLACE "-.*" "" reclaim_trend_arch "${reclaim_trend_arch}")
  add_test(NAME trend_kernel_no_local_memory
           COMMAND ${CMAKE_COMMAND} -DRECLAIM_TREND_NVCC=${CMAKE_CUDA_COMPILER} -DRECLAIM_TREND_ARCH=${reclaim_trend_arch}
                   -DRECLAIM_TREND_ROOT=${PROJECT_SOURCE_DIR}
                   -DRECLAIM_TREND_OBJECT=${CMAKE_CURRENT_BINARY_DIR}/trend_kernel_ptxas_check.o
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/pixel/trend.cmake)
  set_tests_properties(trend_kernel_no_local_memory PROPERTIES LABELS pixel TIMEOUT 300)
endif()
