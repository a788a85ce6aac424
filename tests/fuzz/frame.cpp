// wire::frame::decode on any bytes, and the round trips both ways:
//   decode(encode_payload(x)) == x consuming the whole frame; a decoded frame re-encodes to its bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "wire/frame.hpp"

using trend_fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);

  // Any bytes as a stream: take frames until the decoder asks for more or refuses.
  std::string_view rest = in;
  while (true) {
    const auto d = wire::frame::decode(rest);
    if (d.state == wire::status::need_more) {
      check(d.consumed == 0, "need_more consumed bytes");
      check(rest.size() < wire::frame::header_size + wire::frame::max_payload, "need_more with a whole frame held");
      break;
    }
    if (d.state == wire::status::bad) {
      check(d.consumed == 0 && !d.error.message.empty(), "bad without a reason");
      check(d.error.offset < wire::frame::header_size, "bad past the header");
      break;
    }
    check(d.consumed == wire::frame::header_size + d.value.size() && d.consumed <= rest.size(),
          "consumed is not header + payload");
    check(d.value.data() == rest.data() + wire::frame::header_size, "payload is not a view after the header");
    std::string again;
    check(wire::frame::encode_payload(d.value, again), "a decoded payload does not encode");
    check(again == rest.substr(0, d.consumed), "a decoded frame re-encodes to other bytes");
    rest.remove_prefix(d.consumed);
  }

  // The input as a payload: encode, then decode gives it back and consumes exactly the frame.
  std::string framed;
  const bool fits = wire::frame::encode_payload(in, framed);
  check(fits == (in.size() <= wire::frame::max_payload), "encode_payload refused a payload that fits");
  if (!fits) {
    check(framed.empty(), "a refused payload appended bytes");
    return 0;
  }
  framed += in;  // a second frame's worth of bytes after it must not be consumed
  const auto d = wire::frame::decode(framed);
  check(d.state == wire::status::ok, "an encoded frame does not decode");
  check(d.value == in, "decode(encode_payload(x)) != x");
  check(d.consumed == wire::frame::header_size + in.size(), "decode did not consume exactly the frame");
  std::string tweet;
  if (wire::frame::encode_tweet(in, tweet)) {
    const auto t = wire::frame::decode(tweet);
    check(t && t.consumed == tweet.size() && t.value.substr(0, in.size()) == in && t.value.back() == '\n',
          "an encoded tweet does not decode to its text and '\\n'");
  }
  return 0;
}
