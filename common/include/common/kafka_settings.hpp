#pragma once
// librdkafka settings from the user, shared by engine --kafka and twitter_client --kafka:
// --kafka-option KEY=VALUE on the command line, and --kafka-config FILE (the properties-file form
// that Kafka's own tools take) for everything else, secrets included. A setting that holds a
// secret (a password, a private key) is refused on the command line, where every user of the
// machine can read it, and its value is never logged.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace common::kafka_settings {

struct setting {
  std::string key;
  std::string value;
};

/// A config file holds at most this many bytes.
inline constexpr std::size_t max_file = 1 << 20;

/// Whether the librdkafka setting `key` holds a secret: sasl.password, ssl.key.password,
/// ssl.keystore.password, sasl.oauthbearer.client.secret, ssl.key.pem, sasl.oauthbearer.config ...
/// (any key naming a password or a secret, and the settings that carry a private key or OAuth
/// parameters inline).
bool is_secret(std::string_view key) noexcept;

/// One --kafka-option: KEY=VALUE with a key that is not empty and holds no secret. nullopt with
/// `error` set otherwise (the error names the key, never the value).
std::optional<setting> parse_option(std::string_view text, std::string& error);

/// A properties file: KEY=VALUE per line (white space around the key and the value dropped),
/// blank lines and lines starting with # or ! ignored. nullopt with `error` set ("line N: ...",
/// never quoting a value) on a line that is not KEY=VALUE or a file over max_file bytes.
std::optional<std::vector<setting>> parse_file(std::string_view text, std::string& error);

/// Reads and parses the file `path` (for --kafka-config). A file that cannot be read or does not
/// parse is an error; so is one holding a secret that its group or others may open.
std::optional<std::vector<setting>> load_file(const std::string& path, std::string& error);

/// What a program hands librdkafka: the settings of the --kafka-config file `config_file` (none
/// when empty), then the --kafka-option ones, so the command line wins. nullopt with `error` set
/// (naming the flag) on the first that is wrong.
std::optional<std::vector<setting>> gather(const std::string& config_file, const std::vector<std::string>& options,
                                           std::string& error);

}  // namespace common::kafka_settings
