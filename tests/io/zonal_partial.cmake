# Partial files and reclaim merge's refusals: included by tests/CMakeLists.txt when GDAL is on
# (paths relative to tests/).
add_executable(zonal_partial_test io/zonal_partial_test.cpp)
target_link_libraries(zonal_partial_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(zonal_partial_test)
gtest_discover_tests(zonal_partial_test PROPERTIES LABELS gdal TIMEOUT 60)
