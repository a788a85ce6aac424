#pragma once
// Acknowledged delivery between our twitter_client and our engine, inside wire 1's framing so the
// originals never notice it. No I/O in here.
//
// The client opens each connection with one hello frame, then sends tweets as always; the n-th
// frame after the hello has the number `next + n`. To the original engine the hello is a tweet
// without a hashtag (a control character, then words none of which starts with '#'): it counts
// nothing and writes no record. Our engine recognises it, answers on the same connection
// with a welcome, skips every frame of the session it has applied already (a resend after a
// reconnect), and acknowledges the highest frame number whose effect is durable. The original
// client never sends a hello, so it is never written to.
//
//   client -> engine   "\x1etrend-delivery/1 hello session=<16 hex> next=<decimal>\n"
//   engine -> client   "\x1etrend-delivery/1 welcome applied=<decimal>\n"   (0: none yet)
//                      "\x1etrend-delivery/1 ack <decimal>\n"
// each as a 5-digit framed payload (wire::frame).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wire/result.hpp"

namespace wire::delivery {

/// The control frames' first payload byte (RECORD SEPARATOR): no tweet text starts with it.
inline constexpr char mark = '\x1e';
inline constexpr std::string_view prefix = "\x1etrend-delivery/1 ";

struct hello {
  std::uint64_t session = 0;  ///< chosen at random by the client, not 0
  std::uint64_t next = 1;     ///< the number of the first tweet frame after this hello
  bool operator==(const hello&) const = default;
};
struct welcome {
  std::uint64_t applied = 0;  ///< the highest frame number of the session applied so far
  bool operator==(const welcome&) const = default;
};
struct ack {
  std::uint64_t upto = 0;  ///< every frame numbered up to this one is durable
  bool operator==(const ack&) const = default;
};

/// The payloads, '\n' included.
std::string encode(const hello& h);
std::string encode(const welcome& w);
std::string encode(const ack& a);

/// True when a frame's payload is a control message of this protocol (it starts with `prefix`).
inline bool is_control(std::string_view payload) noexcept { return payload.substr(0, prefix.size()) == prefix; }

/// Parses a payload known to be a control message; bad when it is malformed.
parsed<hello> parse_hello(std::string_view payload);
parsed<welcome> parse_welcome(std::string_view payload);
parsed<ack> parse_ack(std::string_view payload);

}  // namespace wire::delivery
