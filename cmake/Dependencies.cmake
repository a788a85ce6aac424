# Every dependency comes from a Debian package (scripts/setup.sh installs them).
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
find_package(doctest 2.4 REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
# twitter_client: simdjson On-Demand for the JSON hot path (libsimdjson-dev), Boost.Beast for
# Jetstream's WebSocket (header-only, libboost-dev), libxml2's HTML parser for Mastodon statuses.
find_package(simdjson 3.0 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(LibXml2 REQUIRED)
pkg_check_modules(utf8proc REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(xxhash REQUIRED IMPORTED_TARGET libxxhash)
# Prometheus metrics (prometheus-cpp-dev 1.0.1, no version file): only the core library, its
# registry and text serializer; /metrics is served by our own asio code (common/metrics.hpp).
find_package(prometheus-cpp CONFIG REQUIRED)
# engine --kafka and twitter_client --kafka (librdkafka-dev: the C++ API; the C API's mock cluster
# for tests/kafka/mock_cluster).
pkg_check_modules(rdkafka REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(rdkafkacpp REQUIRED IMPORTED_TARGET rdkafka++)

# Standalone asio (libasio-dev) ships no CMake config: wrap it.
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(trend_asio INTERFACE)
add_library(trend::asio ALIAS trend_asio)
target_include_directories(trend_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
# asio 1.22 picks aligned_alloc or its own allocator per translation unit, depending on what was
# included before it; frames allocated one way and freed the other trip AddressSanitizer. One way
# everywhere.
target_compile_definitions(trend_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_DISABLE_STD_ALIGNED_ALLOC)
target_link_libraries(trend_asio INTERFACE Threads::Threads)
# asio 1.22 looks for coroutines the libc++ way under clang (<experimental/coroutine>); with
# libstdc++ (the fuzz build: clang, scripts/fuzz) say that C++20's <coroutine> is there.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_definitions(trend_asio INTERFACE ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
endif()

# Chart.js from Debian's libjs-chart.js, served by the dashboard (no CDN, no copy committed).
find_file(CHARTJS_FILE chart.umd.js chart.min.js PATHS /usr/share/javascript/chart.js NO_DEFAULT_PATH)
