#pragma once
// Synthetic tweets: a few words and 0..3 hashtags drawn from a Zipf(1) law over a vocabulary.
// Integer-only arithmetic, own PRNG and sampler: one --seed gives the same bytes on any platform.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace twitter_client {

/// xoshiro256** seeded through splitmix64 (both by Blackman and Vigna): fast, portable.
class prng {
public:
  explicit prng(std::uint64_t seed);
  std::uint64_t next();
  /// Uniform in [0, n), by Lemire's multiply-shift (a tiny bias is irrelevant here).
  std::uint64_t below(std::uint64_t n);

private:
  std::array<std::uint64_t, 4> s_;
};

/// Samples ranks 0..n-1 with weights proportional to 1/(rank+1), from an integer CDF.
class zipf_sampler {
public:
  explicit zipf_sampler(std::size_t n);
  std::size_t sample(prng& rng) const;
  std::size_t size() const { return cdf_.size(); }

private:
  std::vector<std::uint64_t> cdf_;  // cumulative weights floor(2^40 / (rank+1))
};

/// Generates tweet texts.
class synthetic_tweets {
public:
  static constexpr std::size_t default_tags = 10'000;
  static constexpr std::size_t max_tags = 1'000'000;
  synthetic_tweets(std::uint64_t seed, std::size_t tag_count = default_tags);
  /// Replaces `out` with the next tweet's text.
  void next(std::string& out);
  /// The hashtag of a rank (0 = most frequent), '#' included.
  const std::string& tag(std::size_t rank) const { return tags_[rank]; }

private:
  prng rng_;
  zipf_sampler zipf_;
  std::vector<std::string> tags_;
};

}  // namespace twitter_client
