#pragma once
// Splits a byte stream (HTTP chunks, file blocks, stdin reads) into lines. Pure.
#include <cstddef>
#include <string>
#include <string_view>

namespace twitter_client {

/// Lines longer than this are discarded (counted) instead of growing memory without bound.
inline constexpr std::size_t max_line_bytes = 4 * 1024 * 1024;

/// Incremental line splitter: "\n" or "\r\n" ends a line; blank lines (Twitter's keep-alive
/// "\r\n") are counted, never delivered. Lines are delivered without their terminator.
class line_splitter {
public:
  /// Feeds bytes; calls on_line(std::string_view) for every complete non-blank line.
  template <class OnLine>
  void feed(std::string_view chunk, OnLine&& on_line) {
    while (!chunk.empty()) {
      const std::size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        keep(chunk);
        return;
      }
      if (partial_.empty() && !oversized_) {
        if (nl <= max_line_bytes) deliver(chunk.substr(0, nl), on_line);  // the common case: no copy
        else ++oversized_lines_;  // a whole line too long in one piece: as if kept piecewise
      } else {
        keep(chunk.substr(0, nl));
        if (!oversized_) deliver(partial_, on_line);
        partial_.clear();
        oversized_ = false;
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  /// At the end of a finite input (EOF ends the last line): delivers the unfinished line, if any.
  template <class OnLine>
  void finish(OnLine&& on_line) {
    if (!partial_.empty() && !oversized_) deliver(partial_, on_line);
    partial_.clear();
    oversized_ = false;
  }
  /// Forgets a partial line (a new connection starts on a line boundary); true if one was dropped.
  bool reset();
  /// Bytes of the unfinished line kept so far.
  std::size_t pending() const { return partial_.size(); }
  std::size_t keep_alives() const { return keep_alives_; }
  std::size_t oversized() const { return oversized_lines_; }

private:
  template <class OnLine>
  void deliver(std::string_view line, OnLine& on_line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      ++keep_alives_;
      return;
    }
    on_line(line);
  }
  void keep(std::string_view bytes);

  std::string partial_;
  bool oversized_ = false;
  std::size_t keep_alives_ = 0;
  std::size_t oversized_lines_ = 0;
};

}  // namespace twitter_client
