#include "sources.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "common/log.hpp"
#include "twitter_client/line_splitter.hpp"
#include "twitter_client/synthetic.hpp"
#include "wire/frame.hpp"

namespace twitter_client {

namespace {
using clock = std::chrono::steady_clock;
// Batches of this size keep write() calls large when a source runs flat out.
constexpr std::size_t batch_bytes = 64 * 1024;
}  // namespace

void sleep_unless_stopped(clock::duration d, const std::atomic<bool>& stop) {
  const auto until = clock::now() + d;
  while (!stop.load(std::memory_order_relaxed)) {
    const auto now = clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(std::min<clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
}

frame_sink::frame_sink(frame_queue& queue, client_stats& stats, const std::atomic<bool>& stop, sink_options options)
    : queue_(queue), stats_(stats), stop_(stop), options_(options), start_(clock::now()) {
  batch_.bytes.reserve(batch_bytes + 512);
}

bool frame_sink::done() const {
  return stop_.load(std::memory_order_relaxed) || (options_.limit != 0 && count_ >= options_.limit);
}

bool frame_sink::add(std::string_view text) {
  if (done()) return false;
  ++count_;
  stats_.read.fetch_add(1, std::memory_order_relaxed);
  if (wire::frame::encode_tweet(text, batch_.bytes)) {
    ++batch_.frames;
  } else {
    stats_.skipped.fetch_add(1, std::memory_order_relaxed);
    common::log::warn("skipped a tweet of " + std::to_string(text.size()) +
                      " bytes: a frame holds at most 99998 bytes of text");
  }
  if (batch_.bytes.size() >= batch_bytes) flush();
  if (options_.rate > 0) pace();
  return !done();
}

void frame_sink::pace() {
  const auto due = start_ + std::chrono::duration_cast<clock::duration>(
                                std::chrono::duration<double>(static_cast<double>(count_) / options_.rate));
  const auto now = clock::now();
  // Sleep only when a millisecond ahead: fewer, larger batches at high rates.
  if (due - now < std::chrono::milliseconds(1)) return;
  flush();
  sleep_unless_stopped(due - now, stop_);
}

void frame_sink::flush() {
  if (batch_.empty()) return;
  frame_batch full = std::move(batch_);
  batch_ = frame_batch{};
  batch_.bytes.reserve(batch_bytes + 512);
  if (options_.wait_when_full) {
    const std::size_t frames = full.frames;
    if (!queue_.push_wait(std::move(full))) stats_.lost.fetch_add(frames, std::memory_order_relaxed);
  } else {
    queue_.push(std::move(full));
  }
}

void run_synthetic(frame_sink& sink, std::uint64_t seed, std::size_t tags) {
  synthetic_tweets gen(seed, tags);
  std::string text;
  do {
    gen.next(text);
  } while (sink.add(text));
  sink.flush();
}

bool run_replay(frame_sink& sink, client_stats& stats, const std::string& path, bool loop, text_mode mode) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    common::log::error("cannot open --file " + path + ": " + std::strerror(errno));
    return false;
  }
  std::string buffer(1 << 20, '\0');
  line_splitter splitter;
  std::uint64_t bad = 0, rounds = 0;
  auto on_line = [&](std::string_view line) {
    if (sink.done()) return;
    auto got = extract_tweet_text(line, mode);
    if (got.kind == line_kind::tweet) {
      sink.add(got.text);
    } else if (got.kind == line_kind::bad_json) {
      ++bad;
      stats.skipped.fetch_add(1, std::memory_order_relaxed);
    }
  };
  while (!sink.done()) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n > 0) splitter.feed(std::string_view(buffer.data(), n), on_line);
    if (n < buffer.size()) {
      if (std::ferror(file.get())) {
        common::log::error("reading " + path + ": " + std::strerror(errno));
        break;
      }
      splitter.finish(on_line);
      ++rounds;
      if (!loop) break;
      std::rewind(file.get());
    }
  }
  sink.flush();
  common::log::info("replay of " + path + " done: " + std::to_string(rounds) + " pass(es), " + std::to_string(bad) +
                    " torn or invalid lines skipped");
  return true;
}

void run_stdin(frame_sink& sink, const std::atomic<bool>& stop) {
  std::string buffer(64 * 1024, '\0');
  line_splitter splitter;
  auto on_line = [&](std::string_view line) { sink.add(line); };
  while (!sink.done()) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);  // wakes up now and then to notice a stop
    if (ready == 0) continue;
    if (ready < 0 && errno == EINTR) continue;
    const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      if (n < 0) common::log::error(std::string("reading stdin: ") + std::strerror(errno));
      splitter.finish(on_line);
      break;
    }
    splitter.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), on_line);
    sink.flush();
  }
  (void)stop;
  sink.flush();
}

}  // namespace twitter_client
