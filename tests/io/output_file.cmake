# The temporary-then-rename helper and the output digests behind manifest.json: included by
# tests/CMakeLists.txt when GDAL is on (paths relative to tests/).
add_executable(output_file_test io/output_file_test.cpp)
target_include_directories(output_file_test PRIVATE ${PROJECT_SOURCE_DIR}/host)
target_link_libraries(output_file_test PRIVATE reclaim::io GTest::gtest_main)
reclaim_compile_options(output_file_test)
gtest_discover_tests(output_file_test PROPERTIES LABELS gdal TIMEOUT 60)
