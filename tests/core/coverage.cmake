# Polygon -> pixel coverage: included by tests/CMakeLists.txt (paths relative to tests/).
add_executable(coverage_test core/coverage_test.cpp)
target_link_libraries(coverage_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(coverage_test)
gtest_discover_tests(coverage_test PROPERTIES LABELS core TIMEOUT 120)
