add_executable(common_secret_test ${CMAKE_CURRENT_LIST_DIR}/common_secret_test.cpp)
target_link_libraries(common_secret_test PRIVATE trend::common trend::warnings doctest::doctest)
doctest_discover_tests(common_secret_test TEST_PREFIX "common: ")
