# Twitter's hashtag rules and normalisation: unit tests against twitter-text's conformance suite
# and the real tweets' own entities (both read from TREND_SHARED_DATA; the environment variable
# of the same name overrides it), plus a timing program for scripts/bench-text (not a test).
if(TARGET engine_logic)
  add_executable(engine_text_test ${CMAKE_CURRENT_LIST_DIR}/engine_text_test.cpp)
  target_link_libraries(engine_text_test PRIVATE
    trend::engine_logic nlohmann_json::nlohmann_json trend::warnings doctest::doctest)
  target_compile_definitions(engine_text_test PRIVATE TREND_SHARED_DATA_DIR="${TREND_SHARED_DATA}")
  # A case that finds no data says "skipped: ...", and one that doctest skipped runs no case at
  # all ("test cases: 0 |"): CTest shows either as skipped, not passed.
  doctest_discover_tests(engine_text_test TEST_PREFIX "engine_text: "
    PROPERTIES SKIP_REGULAR_EXPRESSION "skipped: |test cases: +0 [|]")

  add_executable(engine_text_bench EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/engine_text_bench.cpp)
  target_link_libraries(engine_text_bench PRIVATE
    trend::engine_logic nlohmann_json::nlohmann_json trend::warnings)
endif()
