# Report pictures (PNG through libpng) and the HTML report: included by tests/CMakeLists.txt when
# GDAL is on (paths relative to tests/).
add_executable(picture_test io/picture_test.cpp)
target_link_libraries(picture_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(picture_test)
gtest_discover_tests(picture_test PROPERTIES LABELS gdal TIMEOUT 120)
