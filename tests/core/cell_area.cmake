# Pixel areas in hectares: included by tests/CMakeLists.txt (paths relative to tests/).
add_executable(cell_area_test core/cell_area_test.cpp)
target_link_libraries(cell_area_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(cell_area_test)
gtest_discover_tests(cell_area_test PROPERTIES LABELS core TIMEOUT 60)
