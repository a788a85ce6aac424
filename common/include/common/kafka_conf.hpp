#pragma once
// A librdkafka configuration from a program's own settings and the user's (--kafka-config, then
// --kafka-option), for the programs that link librdkafka (engine --kafka, twitter_client --kafka).
// Header only: trend::common itself does not link librdkafka.
#include <librdkafka/rdkafkacpp.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/kafka_settings.hpp"

namespace common::kafka_settings {

/// `own` first, then the user's settings, so that the user's win. Throws std::runtime_error naming
/// the key, never the value (it may be a secret), on a setting librdkafka refuses.
inline std::unique_ptr<RdKafka::Conf> make_conf(const std::vector<setting>& own, const std::string& config_file,
                                                const std::vector<std::string>& options) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  auto set = [&](const setting& s, const char* whose) {
    if (conf->set(s.key, s.value, err) != RdKafka::Conf::CONF_OK)
      throw std::runtime_error(std::string(whose) + s.key + ": " + err);
  };
  for (const auto& s : own) set(s, "Kafka setting ");
  std::string why;
  const auto user = gather(config_file, options, why);
  if (!user) throw std::runtime_error(why);
  for (const auto& s : *user) set(s, "Kafka setting (--kafka-option or --kafka-config) ");
  return conf;
}

}  // namespace common::kafka_settings
