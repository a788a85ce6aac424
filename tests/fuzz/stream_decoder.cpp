// engine::stream_decoder, framed and lines: the first byte picks the format and a piece size;
// the rest fed whole, and fed in pieces (alternating feed() and prepare()/commit(), releasing the
// buffer whenever it is empty) yields the same tweets and the same close decision. The tweets
// are the input again: lines concatenate to it, frames re-encode to its prefix.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "engine/stream_decoder.hpp"
#include "wire/frame.hpp"

using trend_fuzz::check;

namespace {

struct outcome {
  std::vector<std::string> tweets;
  bool closed = false;     // next() answered bad: the connection is closed
  bool cut_off = false;    // finish() answered bad: a frame was cut off at the end
  bool operator==(const outcome&) const = default;
};

// Takes every whole tweet; false once the decoder has closed the stream.
bool drain(engine::stream_decoder& d, outcome& out) {
  while (true) {
    const auto t = d.next();
    if (t.state == wire::status::ok) {
      out.tweets.emplace_back(t.value);
      continue;
    }
    if (t.state == wire::status::bad) {
      check(!t.error.message.empty(), "closed without a reason");
      check(d.next().state == wire::status::bad, "a closed decoder reads on");
      out.closed = true;
      return false;
    }
    return true;
  }
}

void finish(engine::stream_decoder& d, outcome& out) {
  const auto last = d.finish();
  if (last.state == wire::status::ok) out.tweets.emplace_back(last.value);
  out.cut_off = last.state == wire::status::bad;
  check(d.pending() == 0, "bytes pending after finish");
}

outcome whole(engine::input_format format, std::string_view in) {
  engine::stream_decoder d(format);
  outcome out;
  d.feed(in);
  if (drain(d, out)) finish(d, out);
  return out;
}

outcome in_pieces(engine::input_format format, std::string_view in, std::size_t piece) {
  engine::stream_decoder d(format);
  outcome out;
  bool copy = false;
  for (std::size_t at = 0; at < in.size(); at += piece) {
    const std::string_view bytes = in.substr(at, piece);
    if ((copy = !copy)) {
      d.feed(bytes);
    } else {  // as the engine reads: into the decoder's own room, possibly more than arrives
      const auto room = d.prepare(bytes.size() + piece % 7);
      check(room.size() >= bytes.size(), "prepare gave less room than asked");
      std::memcpy(room.data(), bytes.data(), bytes.size());
      d.commit(bytes.size());
    }
    if (!drain(d, out)) return out;
    // Memory stays bounded: a held remainder is never a whole tweet, and lines are capped.
    check(d.pending() <= engine::stream_decoder::max_line + piece, "more than a line's worth held");
    d.shrink_when_idle();  // as a connection waiting for bytes does
  }
  finish(d, out);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto format = (data[0] & 1) ? engine::input_format::lines : engine::input_format::framed;
  const std::size_t piece = (data[0] >> 1) + 1u;  // 1..128
  const std::string_view in = trend_fuzz::as_text(data + 1, size - 1);
  // Fed whole, a line longer than max_line is taken when its '\n' came with it; fed in pieces it
  // closes the stream: the two agree only below that size (the unit tests cover the limit).
  if (in.size() > engine::stream_decoder::max_line) return 0;

  const outcome a = whole(format, in);
  const outcome b = in_pieces(format, in, piece);
  check(a.tweets == b.tweets, "whole and in pieces give different tweets");
  check(a.closed == b.closed, "whole and in pieces differ on closing the stream");
  check(a.cut_off == b.cut_off, "whole and in pieces differ on a frame cut off at the end");

  // The tweets are the input again.
  std::string again;
  for (const auto& t : a.tweets) {
    if (format == engine::input_format::lines) {
      again += t;
    } else {
      check(wire::frame::encode_payload(t, again), "a payload too long for a frame");
    }
  }
  check(in.substr(0, again.size()) == again, "the tweets are not the input's bytes");
  if (format == engine::input_format::lines && !a.closed)
    check(again.size() == in.size(), "lines lost bytes");
  if (format == engine::input_format::framed && !a.closed)
    check(a.cut_off == (again.size() < in.size()), "bytes left over but no frame cut off");
  return 0;
}
