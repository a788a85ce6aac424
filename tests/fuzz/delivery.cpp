// wire::delivery control messages on any bytes: the parsers never accept what their encoders
// would not write back the same (parse then encode gives the input), and encoded messages parse.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "check.hpp"
#include "wire/delivery.hpp"

using trend_fuzz::check;
namespace d = wire::delivery;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  const std::string prefixed = std::string(d::prefix) + std::string(in);
  for (const std::string_view payload : {in, std::string_view(prefixed)}) {
    if (auto h = d::parse_hello(payload)) {
      const auto text = d::encode(*h);
      check(*d::parse_hello(text) == *h, "hello does not round-trip");
    }
    if (auto w = d::parse_welcome(payload)) check(*d::parse_welcome(d::encode(*w)) == *w, "welcome does not round-trip");
    if (auto a = d::parse_ack(payload)) check(*d::parse_ack(d::encode(*a)) == *a, "ack does not round-trip");
  }
  if (size >= 16) {
    std::uint64_t session = 0, next = 0;
    std::memcpy(&session, data, 8);
    std::memcpy(&next, data + 8, 8);
    if (session != 0 && next != 0) {
      const auto back = d::parse_hello(d::encode(d::hello{session, next}));
      check(back && back->session == session && back->next == next, "an encoded hello does not parse");
    }
  }
  return 0;
}
