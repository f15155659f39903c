# Inputs the fuzz targets (tests/fuzz) and review found mishandled: the option layer's numbers
# (job files, --memory-budget) and band numbers of --bands. Included by tests/CMakeLists.txt
# when GDAL is on (paths relative to tests/); the CLI sources are compiled in, as for reclaim.
add_executable(input_limits_test
  cli/input_limits_test.cpp
  ${PROJECT_SOURCE_DIR}/host/cli/common_options.cpp
  ${PROJECT_SOURCE_DIR}/host/cli/option_values.cpp)
target_include_directories(input_limits_test PRIVATE ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(input_limits_test PRIVATE reclaim::io GDAL::GDAL GTest::gtest_main)
reclaim_compile_options(input_limits_test)
gtest_discover_tests(input_limits_test PROPERTIES LABELS gdal TIMEOUT 60)
