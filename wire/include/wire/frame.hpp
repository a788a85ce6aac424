#pragma once
// Wire 1 (client -> engine): a payload preceded by its byte length as 5 ASCII digits.
// The original client sends the tweet's UTF-8 text plus '\n', the length counting the '\n':
// "Hello everyone!" travels as "00016Hello everyone!\n". No I/O in here.
#include <cstddef>
#include <string>
#include <string_view>

#include "wire/result.hpp"

namespace wire::frame {

inline constexpr std::size_t header_size = 5;
/// The largest payload 5 decimal digits can announce.
inline constexpr std::size_t max_payload = 99999;

/// Appends header and payload to `out`; returns false (appending nothing) if the payload is too long.
bool encode_payload(std::string_view payload, std::string& out);

/// Appends the original client's frame for a tweet: header, text, '\n'; false if too long.
bool encode_tweet(std::string_view text, std::string& out);

/// Decodes one frame from the start of `in`. On ok, the value is the payload (a view into `in`)
/// and `consumed` counts header plus payload. Keeps no state and allocates nothing unless the
/// header is bad: the caller keeps unconsumed bytes and calls again with more. A header that is
/// not 5 ASCII digits is bad as soon as the first offending byte is seen; the error message
/// shows the header bytes seen, escaped.
parsed<std::string_view> decode(std::string_view in);

}  // namespace wire::frame
