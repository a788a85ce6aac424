// Timing of Twitter's hashtag rules and of the normalisation on the real tweets (not a test:
// scripts/bench-text runs it on a Release build and prints what it measures).
//
//   engine_text_bench DATA_DIR [ROUNDS]     DATA_DIR holds tweets/*.jsonl
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/hashtags.hpp"
#include "engine/normalize.hpp"
#include "engine/twitter_text.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The text a client sends for a tweet: the whole text when there is one.
std::string text_of(const json& t) {
  if (t.contains("data") && t["data"].is_object()) return t["data"].value("text", "");
  if (t.contains("extended_tweet")) return t["extended_tweet"].value("full_text", "");
  if (t.contains("full_text")) return t.value("full_text", "");
  return t.value("text", "");
}

// Best of `rounds` timings of fn() over the whole input, in nanoseconds.
template <class Fn>
double best_ns(int rounds, Fn&& fn) {
  double best = 1e300;
  for (int r = 0; r < rounds; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double, std::nano>(t1 - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [ROUNDS]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(argv[1]) / "tweets"))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> texts;
  std::size_t bytes = 0;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) {
        texts.push_back(text_of(json::parse(line)));
        bytes += texts.back().size();
      }
  }
  if (texts.empty()) {
    std::fprintf(stderr, "no tweets under %s/tweets\n", argv[1]);
    return 1;
  }

  std::vector<std::string_view> tags;
  std::vector<std::string_view> all_tags;  // for the normalisation timing
  std::size_t twitter_count = 0, python_count = 0, sink = 0;
  for (const auto& t : texts) {
    engine::extract_hashtags(t, tags);
    all_tags.insert(all_tags.end(), tags.begin(), tags.end());
  }
  twitter_count = all_tags.size();
  const double twitter_ns = best_ns(rounds, [&] {
    for (const auto& t : texts) {
      engine::extract_hashtags(t, tags);
      sink += tags.size();
    }
  });
  // The same tweets with "(" before every '#' that followed white space: each tweet with a
  // hashtag and a '.' then takes the URL pass (a hash mark after white space never needs it).
  std::vector<std::string> forced;
  for (const auto& t : texts) {
    std::string f;
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (t[i] == '#' && (i == 0 || t[i - 1] == ' ' || t[i - 1] == '\n')) f += '(';
      f += t[i];
    }
    forced.push_back(std::move(f));
  }
  std::size_t forced_count = 0;
  const double forced_ns = best_ns(rounds, [&] {
    forced_count = 0;
    for (const auto& t : forced) {
      engine::extract_hashtags(t, tags);
      forced_count += tags.size();
    }
  });
  const double python_ns = best_ns(rounds, [&] {
    python_count = 0;
    for (const auto& t : texts) engine::for_each_hashtag(t, [&](std::string_view) { ++python_count; });
  });
  std::size_t ascii = 0;
  for (const auto tag : all_tags)
    ascii += std::all_of(tag.begin(), tag.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  std::string out;
  const double normalize_ns = best_ns(rounds, [&] {
    for (const auto tag : all_tags) {
      engine::normalize_nfkc_lower(tag, out);
      sink += out.size();
    }
  });
  std::vector<std::string_view> wide_tags;
  for (const auto tag : all_tags)
    if (std::any_of(tag.begin(), tag.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      wide_tags.push_back(tag);
  const double wide_ns = wide_tags.empty() ? 0 : best_ns(rounds, [&] {
    for (const auto tag : wide_tags) {
      engine::normalize_nfkc_lower(tag, out);
      sink += out.size();
    }
  });

  const double n = static_cast<double>(texts.size());
  std::printf("tweets: %zu (%.0f bytes on average), best of %d rounds\n", texts.size(),
              static_cast<double>(bytes) / n, rounds);
  std::printf("extract_hashtags (twitter-text): %.0f ns per tweet, %zu hashtags, %.1f M tweets/s\n",
              twitter_ns / n, twitter_count, n / twitter_ns * 1e3);
  std::printf("extract_hashtags with '(' before each '#' (URL pass on every tweet): %.0f ns per tweet, %zu hashtags\n",
              forced_ns / n, forced_count);
  std::printf("for_each_hashtag (the original's rule): %.0f ns per tweet, %zu hashtags, %.1f M tweets/s\n",
              python_ns / n, python_count, n / python_ns * 1e3);
  std::printf("normalize_nfkc_lower: %.1f ns per hashtag over all %zu (%zu ASCII); %.0f ns per non-ASCII one\n",
              normalize_ns / static_cast<double>(all_tags.size()), all_tags.size(), ascii,
              wide_tags.empty() ? 0.0 : wide_ns / static_cast<double>(wide_tags.size()));
  return sink == 0 ? 1 : 0;
}
