#include "common/net.hpp"

#include <asio/experimental/as_tuple.hpp>

#include <chrono>
#include <cstdint>

#include "common/backoff.hpp"
#include "common/log.hpp"

namespace common {

namespace {
using asio::ip::tcp;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
}  // namespace

tcp::acceptor listen(const asio::any_io_executor& executor, const host_port& where) {
  const std::string name = to_string(where);
  try {
    tcp::resolver resolver(executor);
    const auto results = resolver.resolve(where.host, std::to_string(where.port),
                                          tcp::resolver::passive | tcp::resolver::numeric_service);
    tcp::acceptor acceptor(executor);
    const tcp::endpoint endpoint = *results.begin();
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    return acceptor;
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "cannot listen on " + name);
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::function<void(tcp::socket)> on_accept,
                                  std::string what) {
  using namespace std::chrono_literals;
  backoff delay(10ms, 1s);
  std::uint64_t failures = 0;
  std::string first_error;
  while (acceptor.is_open()) {
    auto [err, socket] = co_await acceptor.async_accept(use_nothrow);
    if (!err) {
      if (failures > 0) {
        log::info(what + ": accepting again after " + std::to_string(failures) + " failed accepts (" + first_error +
                  ")");
        failures = 0;
        delay.reset();
      }
      on_accept(std::move(socket));
      continue;
    }
    if (err == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (failures++ == 0) {
      first_error = err.message();
      log::warn(what + ": accept failed (" + first_error +
                "); backing off up to 1 s, established connections carry on");
    }
    asio::steady_timer wait(acceptor.get_executor(), delay.next());
    co_await wait.async_wait(use_nothrow);
  }
}

std::string to_string(const tcp::endpoint& endpoint) {
  return to_string(host_port{endpoint.address().to_string(), endpoint.port()});
}

}  // namespace common
