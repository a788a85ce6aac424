#pragma once
// Twitter's documented reconnect rules for streaming connections. Pure: the caller sleeps.
#include <chrono>
#include <cstddef>
#include <string>

namespace twitter_client {

/// Why a stream connection ended, which decides how long to wait before the next one.
enum class failure_class {
  network,     ///< TCP/TLS error, disconnect, stall: linear 250 ms steps up to 16 s
  http,        ///< HTTP error status: exponential from 5 s up to 320 s
  rate_limit,  ///< 420 or 429: exponential from 60 s (up to 960 s)
  fatal,       ///< 401/403: retrying cannot help
};

/// The class of an HTTP status other than 200.
failure_class classify_http(long status);

/// How a stream connection ended, the reason label of the client's reconnect metric.
enum class stream_end {
  network,     ///< connect, TLS or transfer error
  stalled,     ///< no data for the stall timeout
  ended,       ///< the server ended the stream cleanly
  http,        ///< an HTTP error status
  rate_limit,  ///< 420 or 429
};
inline constexpr std::size_t stream_end_count = 5;

/// How a connection ended: its HTTP status (0: none read), whether it stalled, whether the
/// transfer failed; a status other than 200 decides first, then a stall, then a failure.
stream_end end_of_stream(long http_status, bool stalled, bool transfer_failed);

/// The label: "network", "stalled", "ended", "http", "rate_limit".
const char* name(stream_end e);

/// Name used in log lines ("network", "http", "rate-limit", "fatal").
const char* name(failure_class c);

/// What to tell the user for a fatal status, per API (v1 = statuses/filter, else v2).
std::string fatal_advice(long status, bool v1);

/// Longest Retry-After honoured; a larger value (or a bogus one) is capped here.
inline constexpr std::chrono::seconds max_retry_after{3600};

/// The wait before the next attempt: the nominal back-off, or longer when the server asked for
/// it with Retry-After (`retry_after_seconds` > 0; 0 = no header). Never shorter than nominal.
std::chrono::milliseconds honour_retry_after(std::chrono::milliseconds nominal, long long retry_after_seconds);

/// How long a stream connection must stay up (HTTP 200, data flowing) before its end no longer
/// counts as one more consecutive failure. Shorter connections keep the back-off growing, so a
/// server that sends a line and hangs up is not called again four times a second forever.
inline constexpr std::chrono::seconds healthy_connection{30};

/// Back-off state across consecutive failures; reset by a connection that stayed healthy.
class reconnect_policy {
public:
  using ms = std::chrono::milliseconds;
  using time_point = std::chrono::steady_clock::time_point;
  /// `scale` shrinks every delay (tests use e.g. 0.01); 1.0 in production. It does not shrink
  /// healthy_connection.
  explicit reconnect_policy(double scale = 1.0) : scale_(scale) {}
  /// The stream answered HTTP 200 and sent its first bytes at `at`.
  void connected(time_point at);
  /// The connection ended at `at`: if it had been up for healthy_connection, every class starts over.
  void ended(time_point at);
  /// The nominal delay (unscaled) before the next attempt after a failure of class c.
  ms next_nominal(failure_class c);
  /// The delay to actually wait: nominal times the scale.
  ms scaled(ms nominal) const;
  /// Every class starts over.
  void reset();

private:
  double scale_;
  int network_ = 0, http_ = 0, rate_ = 0;  // consecutive failures per class
  time_point connected_at_{};
  bool connected_ = false;
};

}  // namespace twitter_client
