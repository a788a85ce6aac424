// Unit tests of twitter_client --kafka's pure part: the texts inside the queue's frames, the options.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "twitter_client/frame_texts.hpp"
#include "twitter_client/options.hpp"
#include "wire/frame.hpp"

namespace {

template <std::size_t N>
twitter_client::config parse(const char* const (&argv)[N]) {
  auto parsed = twitter_client::parse_options(static_cast<int>(N), argv);
  REQUIRE(parsed.config);
  return *parsed.config;
}

}  // namespace

TEST_CASE("each frame of the queue becomes the tweet's text, without the frame's newline") {
  std::string frames;
  const std::vector<std::string> texts{"Hello #everyone", "", "two\nlines #a", std::string(99'998, 'x')};
  for (const auto& t : texts) REQUIRE(wire::frame::encode_tweet(t, frames));
  std::vector<std::string> seen;
  CHECK(twitter_client::for_each_frame_text(frames, [&](std::string_view t) { seen.emplace_back(t); }) == texts.size());
  CHECK(seen == texts);
  CHECK(twitter_client::for_each_frame_text("", [](std::string_view) { FAIL("no frame"); }) == 0);
}

TEST_CASE("--kafka, --topic, --kafka-option and --kafka-config; a secret is refused on the command line") {
  const char* const plain[] = {"twitter_client"};
  CHECK(parse(plain).kafka.empty());  // the default stays the engine link
  const char* const argv[] = {"twitter_client", "--kafka", "k1:9092,k2:9092", "--topic", "t",
                              "--kafka-option", "compression.type=lz4", "--kafka-option", "client.rack=a=b",
                              "--kafka-config", "/etc/trend/kafka.properties"};
  const auto cfg = parse(argv);
  CHECK(cfg.kafka == "k1:9092,k2:9092");
  CHECK(cfg.kafka_topic == "t");
  CHECK(cfg.kafka_options == std::vector<std::string>{"compression.type=lz4", "client.rack=a=b"});
  CHECK(cfg.kafka_config == "/etc/trend/kafka.properties");
  const char* const bad[] = {"twitter_client", "--kafka", "k:9092", "--kafka-option", "novalue"};
  CHECK(twitter_client::parse_options(5, bad).exit_code == 2);
  const char* const secret[] = {"twitter_client", "--kafka", "k:9092", "--kafka-option", "sasl.password=hunter2"};
  CHECK(twitter_client::parse_options(5, secret).exit_code == 2);
}
