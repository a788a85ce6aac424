#pragma once
// Prometheus metrics, the same way in all four programs (docs/observability.md). prometheus-cpp
// (Debian's prometheus-cpp-dev, the core library only) holds the metrics and writes the text
// format; the HTTP endpoint is our own asio code, not prometheus-cpp's civetweb exposer, so that
// a scrape runs on the program's own io_context: the engine's counters are plain integers of
// its one thread, read where they live, with no lock and no atomic on the hot path.
//
// Counters a program keeps anyway are read at scrape time through a `from_function` collectable
// that fills `families`; new labelled counters and histograms live in a prometheus::Registry.
#include <asio.hpp>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/hostport.hpp"

namespace common::metrics {

/// The Content-Type of Prometheus's text exposition format.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Label name/value pairs of one sample, in the order given.
using labels = std::vector<std::pair<std::string, std::string>>;

/// Metric families built at scrape time, in the order added; samples of one name go to one family.
class families {
public:
  /// A counter sample (`name` ends in _total).
  families& counter(std::string_view name, std::string_view help, double value, const labels& l = {});
  /// A gauge sample.
  families& gauge(std::string_view name, std::string_view help, double value, const labels& l = {});
  /// An info metric: a gauge of 1 whose labels carry the information (`name` ends in _info).
  families& info(std::string_view name, std::string_view help, const labels& l);
  /// What was added; moved out.
  std::vector<prometheus::MetricFamily> take() { return std::move(families_); }

private:
  prometheus::ClientMetric& add(std::string_view name, std::string_view help, prometheus::MetricType type,
                                const labels& l);
  std::vector<prometheus::MetricFamily> families_;
};

/// A collectable whose families `fill` builds at each scrape, on the thread that scrapes.
class from_function : public prometheus::Collectable {
public:
  explicit from_function(std::function<void(families&)> fill) : fill_(std::move(fill)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  std::function<void(families&)> fill_;
};

/// What an endpoint serves: every family of every collectable, in order.
using sources = std::vector<std::shared_ptr<prometheus::Collectable>>;

/// The text exposition format of what `from` holds now (prometheus-cpp's TextSerializer).
std::string text(const sources& from);

/// Bytes of a request head the endpoint reads at most.
inline constexpr std::size_t max_head = 8 * 1024;

/// The whole HTTP/1.1 response to one request head (pure): 200 with `body()` for GET /metrics
/// (any query), headers only for HEAD; 404 for another path, 405 for another method, 400 when
/// the request line does not parse. Every response closes the connection.
std::string answer(std::string_view head, const std::function<std::string()>& body);

/// Serves GET /metrics on HOST:PORT from an executor: a scrape runs there, so it may read state
/// that only that executor's thread touches. An address that cannot be bound (taken, not local)
/// is a warning, never an error: the program goes on without metrics.
class endpoint {
public:
  /// Listens on `where` and serves `body()` (see answer()); logs where, or why not.
  endpoint(const asio::any_io_executor& executor, const host_port& where, std::function<std::string()> body);
  ~endpoint();
  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;

  /// True when the address was bound.
  bool listening() const noexcept;
  /// "HOST:PORT" actually listened on (the port chosen when 0 was asked); empty when not listening.
  std::string local_address() const;
  /// Stops accepting and closes open scrapes. Any thread.
  void stop();

  struct state;  ///< shared with the scrapes in flight, which may outlive the endpoint

private:
  std::shared_ptr<state> state_;
};

/// An endpoint on a thread and io_context of its own, for a program whose counters are atomics
/// or a registry (the client, whose threads block). Stopped and joined when destroyed.
class endpoint_thread {
public:
  endpoint_thread(const host_port& where, sources from);
  ~endpoint_thread();
  endpoint_thread(const endpoint_thread&) = delete;
  endpoint_thread& operator=(const endpoint_thread&) = delete;

private:
  asio::io_context io_{1};
  sources from_;
  endpoint endpoint_;
  std::thread thread_;
};

}  // namespace common::metrics
