#pragma once
// Listening and accepting, the same way in every asio program.
#include <asio.hpp>

#include <functional>
#include <string>

#include "common/hostport.hpp"

namespace common {

/// An acceptor listening on `where` (a host name or an address). SO_REUSEADDR, never
/// SO_REUSEPORT (a second program on the port must fail). Throws std::system_error whose
/// what() reads "cannot listen on HOST:PORT: reason".
asio::ip::tcp::acceptor listen(const asio::any_io_executor& executor, const host_port& where);

/// Accepts connections until the acceptor is closed and hands each to `on_accept`. A failing
/// accept (out of descriptors: EMFILE, ENFILE, ENOBUFS, ENOMEM) is not retried in a tight loop:
/// it backs off from 10 ms to 1 s, is logged once when a burst starts and once, with the count,
/// when accepting works again; established connections are served all along. `what` names the
/// listener in log lines ("source listener").
asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                                  std::function<void(asio::ip::tcp::socket)> on_accept, std::string what);

/// "HOST:PORT" of an endpoint, IPv6 in brackets.
std::string to_string(const asio::ip::tcp::endpoint& endpoint);

}  // namespace common
