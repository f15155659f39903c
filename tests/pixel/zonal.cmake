# Zonal-statistics accumulators and their serialisation: included by tests/CMakeLists.txt.
add_executable(zonal_test pixel/zonal_test.cpp)
target_link_libraries(zonal_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(zonal_test)
gtest_discover_tests(zonal_test PROPERTIES LABELS pixel TIMEOUT 120)

add_executable(zonal_variance_test pixel/zonal_variance_test.cpp)
target_link_libraries(zonal_variance_test PRIVATE reclaim::pixel GTest::gtest_main)
reclaim_compile_options(zonal_variance_test)
gtest_discover_tests(zonal_variance_test PROPERTIES LABELS pixel TIMEOUT 120)
