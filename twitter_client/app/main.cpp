// twitter_client: reads tweets (Twitter API v2 or v1.1 stream, a JSONL replay, stdin, or a
// synthetic generator) and forwards each text to the engine as a 5-digit length-framed message.
#include "client_app.hpp"
#include "common/program.hpp"
#include "twitter_client/options.hpp"

int main(int argc, char** argv) {
  return common::program_main("twitter_client", argc, argv, twitter_client::parse_options, twitter_client::run);
}
