#pragma once
// Twitter and Mastodon credentials from the environment or a KEY=VALUE file. Pure parsing; never logged.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace twitter_client {

/// The variable names the client reads.
inline constexpr std::string_view credential_names[] = {
    "TWITTER_BEARER_TOKEN",  "TWITTER_CONSUMER_KEY",  "TWITTER_CONSUMER_SECRET",
    "TWITTER_ACCESS_TOKEN",  "TWITTER_ACCESS_SECRET", "MASTODON_TOKEN",
};

using credential_map = std::map<std::string, std::string, std::less<>>;

/// Parses KEY=VALUE lines (blank lines and '#' comments ignored, optional "export ", values may be
/// quoted with ' or "). Unknown keys are kept. On a malformed line, returns nullopt and sets
/// `error` to a message naming the line number (never its content: it may hold a secret).
std::optional<credential_map> parse_credentials(std::string_view text, std::string& error);

/// True when group or other may read a file of this mode (st_mode bits).
constexpr bool readable_by_others(unsigned mode) { return (mode & 044u) != 0; }

/// The source used when none is given: "twitter" with a bearer token, "twitter-v1" with the four
/// OAuth 1.0a values, else "synthetic".
std::string default_source(const credential_map& creds);

}  // namespace twitter_client
