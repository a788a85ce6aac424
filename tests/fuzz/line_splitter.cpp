// twitter_client::line_splitter, the client's splitter of HTTP stream bodies: the first byte picks
// a piece size and whether the rest makes one line repeated past max_line_bytes (too long to keep).
// Fed whole and fed in pieces it delivers the same lines and counts the same keep-alives and
// oversized lines; no line over max_line_bytes is ever delivered and no more than that is held.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "twitter_client/line_splitter.hpp"

using trend_fuzz::check;
using twitter_client::max_line_bytes;

namespace {

struct outcome {
  std::vector<std::string> lines;
  std::size_t keep_alives = 0;
  std::size_t oversized = 0;
};

outcome split(std::string_view in, std::size_t piece) {
  twitter_client::line_splitter s;
  outcome out;
  const auto on_line = [&](std::string_view line) {
    check(line.size() <= max_line_bytes, "a line over max_line_bytes was delivered");
    check(line.find_first_not_of(" \t\r") != std::string_view::npos, "a blank line was delivered");
    check(line.find('\n') == std::string_view::npos, "a line holding '\\n'");
    out.lines.emplace_back(line);
  };
  for (std::size_t at = 0; at < in.size(); at += piece) {
    s.feed(in.substr(at, piece), on_line);
    check(s.pending() <= max_line_bytes, "more than max_line_bytes held");
  }
  s.finish(on_line);
  check(s.pending() == 0, "bytes held after finish");
  out.keep_alives = s.keep_alives();
  out.oversized = s.oversized();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool long_lines = data[0] >= 0xF0;  // one input in 16: they are slow
  std::size_t piece = (data[0] & 0x3F) + 1u;
  const std::string_view body = trend_fuzz::as_text(data + 1, size - 1);
  static std::string repeated;  // kept from run to run: fresh pages for 8 MiB cost more than the run
  std::string_view in = body;
  if (long_lines) {  // one line of the body repeated past the limit, a line break, the body again
    repeated.reserve(2 * max_line_bytes + 2 * body.size() + 1);
    repeated.assign(body);
    std::replace(repeated.begin(), repeated.end(), '\n', ' ');  // one line, not a million short ones
    while (repeated.size() <= max_line_bytes) repeated.append(repeated);
    repeated += '\n';
    repeated += body;
    in = repeated;
    piece *= 4096;  // as curl hands over a stream: in blocks
  }

  const outcome whole = split(in, in.size() + 1);
  const outcome pieces = split(in, piece);
  check(whole.lines == pieces.lines, "whole and in pieces give different lines");
  check(whole.keep_alives == pieces.keep_alives, "whole and in pieces count different keep-alives");
  check(whole.oversized == pieces.oversized, "whole and in pieces count different oversized lines");
  return 0;
}
