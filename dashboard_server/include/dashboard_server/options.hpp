#pragma once
// The dashboard's command line, and the start-up check that a dashboard reachable from other
// machines does not take updates from anyone.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/cli.hpp"
#include "common/hostport.hpp"

namespace dashboard_server {

/// How far back GET /history reaches unless --history says otherwise.
inline constexpr std::chrono::seconds default_history_span{15 * 60};
/// --history at most: the ring holds one snapshot per second, the page draws every one of them.
inline constexpr std::chrono::seconds max_history_span{60 * 60};
/// The page calls the stream stale after this long without an update unless --stale-after says otherwise.
inline constexpr std::chrono::seconds default_stale_after{10};
/// --subtitle holds at most this many characters (a line under the title, not a page).
inline constexpr std::size_t max_subtitle_chars = 200;
/// The environment variable that holds the update token.
inline constexpr const char* token_variable = "DASHBOARD_TOKEN";

struct config {
  common::host_port listen{"127.0.0.1", 5003};  ///< where to serve (--listen, or --host and --port)
  std::string static_dir;                       ///< the page's files; empty = <bin>/../share/static
  std::size_t threads = 16;                     ///< threads serving connections; at most threads/2 event streams
  std::chrono::seconds history = default_history_span;          ///< span of GET /history (--history)
  std::chrono::milliseconds stale_after = default_stale_after;  ///< the page's "stale" threshold
  std::string subtitle;                         ///< a line of text under the page's title; empty: none
  std::string token_file;                       ///< --token-file: the update token (else DASHBOARD_TOKEN)
  bool allow_anonymous_updates = false;         ///< a non-loopback address may serve without a token
  common::cli::common_flags flags;              ///< --log-level, --stats-interval
};

/// Parses the command line: the config, or the exit code to stop with (CLI11 printed why).
common::cli::outcome<config> parse_options(int argc, const char* const* argv);

/// At most this many event streams are open at once; more get 503 and the page polls.
inline std::size_t max_event_streams(const config& cfg) { return cfg.threads / 2; }

/// Whether `host` names this machine only: "localhost", 127.0.0.0/8, ::1 (also IPv4-mapped).
/// Any other name counts as reachable from elsewhere, whatever it resolves to today.
bool is_loopback_host(std::string_view host);

/// Why the dashboard must not start as configured, or nullopt: listening beyond loopback with
/// no update token and no --allow-anonymous-updates would let anyone who reaches it post trends.
std::optional<std::string> exposure_refusal(const config& cfg, bool has_token);

}  // namespace dashboard_server
