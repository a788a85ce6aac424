add_executable(wire_test ${CMAKE_CURRENT_LIST_DIR}/wire_test.cpp)
target_link_libraries(wire_test PRIVATE trend::wire trend::warnings doctest::doctest)
doctest_discover_tests(wire_test TEST_PREFIX "wire: ")
