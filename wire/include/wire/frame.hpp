#pragma once
// Wire 1 (client -> engine): a payload preceded by its byte length as 5 ASCII digits.
// The original client sends the tweet's UTF-8 text plus '\n', the length counting the '\n':
// "Hello everyone!" travels as "00016Hello everyone!\n". No I/O in here.
#include <cstddef>
#include <string>
#include <string_view>

namespace wire::frame {

inline constexpr std::size_t header_size = 5;
/// The largest payload 5 decimal digits can announce.
inline constexpr std::size_t max_payload = 99999;

/// Appends header and payload to `out`; returns false (appending nothing) if the payload is too long.
bool encode_payload(std::string_view payload, std::string& out);

/// Appends the original client's frame for a tweet: header, text, '\n'; false if too long.
bool encode_tweet(std::string_view text, std::string& out);

enum class status { ok, need_more, bad_header };

/// Result of decoding the front of a byte stream. On `ok`, `payload` views into the input and
/// `consumed` counts header plus payload; on `need_more` and `bad_header`, `consumed` is 0.
struct decoded {
  status state;
  std::size_t consumed;
  std::string_view payload;
};

/// Decodes one frame from the start of `in`. Keeps no state and allocates nothing: the
/// caller keeps unconsumed bytes and calls again with more. A header that is not 5 ASCII
/// digits is `bad_header` as soon as the first offending byte is seen.
decoded decode(std::string_view in) noexcept;

/// Text describing the error for logs, with the header bytes seen escaped (at most 5).
std::string describe_bad_header(std::string_view in);

}  // namespace wire::frame
