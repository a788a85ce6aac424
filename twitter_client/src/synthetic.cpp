#include "twitter_client/synthetic.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace twitter_client {

namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// The most common tags get real-looking names; the long tail is made of syllables.
constexpr std::string_view head_tags[] = {
    "#news",     "#music",    "#love",      "#cpp",       "#travel",  "#sports",  "#photography", "#food",
    "#tech",     "#art",      "#football",  "#nba",       "#gaming",  "#science", "#health",      "#fashion",
    "#movies",   "#books",    "#weather",   "#python",    "#ai",      "#crypto",  "#startup",     "#climate",
    "#election", "#fitness",  "#coffee",    "#dogs",      "#cats",    "#tbt",     "#mondaymotivation", "#wallaroo",
};

constexpr std::string_view words[] = {
    "the",    "a",      "to",      "and",     "of",     "in",      "is",     "it",     "you",    "that",   "this",
    "for",    "on",     "my",      "with",    "just",   "so",      "be",     "at",     "me",     "are",    "have",
    "not",    "what",   "all",     "new",     "today",  "love",    "day",    "time",   "can't",  "wait",   "people",
    "great",  "good",   "best",    "really",  "now",    "more",    "one",    "here",   "who",    "know",   "think",
    "watch",  "game",   "tonight", "morning", "night",  "week",    "world",  "city",   "live",   "free",   "happy",
    "thanks", "check",  "out",     "first",   "last",   "big",     "little", "team",   "win",    "back",   "home",
    "work",   "music",  "video",   "photo",   "story",  "news",    "coffee", "friday", "weekend", "amazing", "wow",
    "lol",    "omg",    "why",     "how",     "when",   "finally", "never",  "always", "😂",     "❤️",     "🔥",
    "café",   "über",   "naïve",   "señor",   "東京",   "ありがとう", "привет", "مرحبا",  "!",      "?",      "...",
};

constexpr char consonants[] = "bcdfghjklmnpqrstvwxz";  // 20
constexpr char vowels[] = "aeiou";                     // 5

std::string tail_tag(std::size_t rank) {
  // Three consonant-vowel syllables (base 100), capitalised so that no head tag can collide.
  std::string tag = "#";
  // A bijection of 0..999,999 (7919 is coprime with 10^6) so that neighbouring ranks look unrelated.
  std::size_t k = rank < 1'000'000 ? (rank * 7919 + 12345) % 1'000'000 : rank;
  for (int i = 0; i < 3; ++i) {
    const std::size_t syl = k % 100;
    k /= 100;
    char c = consonants[syl / 5];
    if (i == 0) c = static_cast<char>(c - 'a' + 'A');
    tag.push_back(c);
    tag.push_back(vowels[syl % 5]);
  }
  if (k > 0) tag += std::to_string(k);  // ranks from 1,000,000 up, if ever allowed
  return tag;
}

}  // namespace

prng::prng(std::uint64_t seed) {
  std::uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

std::uint64_t prng::below(std::uint64_t n) {
  __extension__ typedef unsigned __int128 u128;
  return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
}

std::uint64_t prng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

zipf_sampler::zipf_sampler(std::size_t n) {
  if (n == 0) throw std::invalid_argument("zipf_sampler needs at least one rank");
  cdf_.reserve(n);
  std::uint64_t total = 0;
  for (std::size_t rank = 0; rank < n; ++rank) {
    total += (std::uint64_t{1} << 40) / (rank + 1);
    cdf_.push_back(total);
  }
}

std::size_t zipf_sampler::sample(prng& rng) const {
  const std::uint64_t r = rng.below(cdf_.back());
  // First rank whose cumulative weight exceeds r.
  return static_cast<std::size_t>(std::upper_bound(cdf_.begin(), cdf_.end(), r) - cdf_.begin());
}

synthetic_tweets::synthetic_tweets(std::uint64_t seed, std::size_t tag_count)
    : rng_(seed), zipf_(std::clamp<std::size_t>(tag_count, 1, max_tags)) {
  tags_.reserve(zipf_.size());
  for (std::size_t rank = 0; rank < zipf_.size(); ++rank)
    tags_.push_back(rank < std::size(head_tags) ? std::string(head_tags[rank]) : tail_tag(rank));
}

void synthetic_tweets::next(std::string& out) {
  out.clear();
  const std::uint64_t word_count = 3 + rng_.below(10);
  // 0 hashtags half of the time, then 1, 2, 3 ever less often.
  const std::uint64_t roll = rng_.below(100);
  const std::uint64_t tag_count = roll < 50 ? 0 : roll < 75 ? 1 : roll < 90 ? 2 : 3;
  const std::uint64_t slots = word_count + tag_count;
  if (rng_.below(10) == 0) {
    out += "@user";
    out += std::to_string(rng_.below(100'000));
    out.push_back(' ');
  }
  std::uint64_t tags_left = tag_count;
  for (std::uint64_t i = 0; i < slots; ++i) {
    if (i != 0) out.push_back(' ');
    // Each remaining slot holds a tag with probability tags_left / slots_left: tags land anywhere.
    if (tags_left > 0 && rng_.below(slots - i) < tags_left) {
      out += tags_[zipf_.sample(rng_)];
      --tags_left;
    } else {
      out += words[rng_.below(std::size(words))];
    }
  }
  if (rng_.below(7) == 0) {
    static constexpr char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    out += " https://t.co/";
    for (int i = 0; i < 10; ++i) out.push_back(alnum[rng_.below(62)]);
  }
}

}  // namespace twitter_client
