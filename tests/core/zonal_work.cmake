# Zonal work (coverage once per zone, items per tile, CPU accumulation, merge) and the crop
# observer, tested directly: included by tests/CMakeLists.txt (paths relative to tests/).
add_executable(zonal_work_test core/zonal_work_test.cpp core/site_crops_test.cpp core/pixels_read_test.cpp)
target_link_libraries(zonal_work_test PRIVATE reclaim::core GTest::gtest_main)
reclaim_compile_options(zonal_work_test)
gtest_discover_tests(zonal_work_test PROPERTIES LABELS core TIMEOUT 120)
