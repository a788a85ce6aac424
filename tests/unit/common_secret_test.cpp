// Unit tests of common/secret (tokens from the environment or an owner-only file) and of
// common/kafka_settings (librdkafka settings: secrets only from an owner-only file).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/kafka_settings.hpp"
#include "common/secret.hpp"

namespace secret = common::secret;
namespace fs = std::filesystem;

namespace {

// A file with `text` and `mode` in a fresh temporary folder, removed at the end of the test.
struct temp_file {
  fs::path dir;
  fs::path path;
  temp_file(const std::string& text, fs::perms mode) {
    std::string pattern = (fs::temp_directory_path() / "trend-secret-XXXXXX").string();
    dir = ::mkdtemp(pattern.data());
    path = dir / "token";
    std::ofstream(path, std::ios::binary) << text;
    fs::permissions(path, mode);
  }
  ~temp_file() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

constexpr auto owner_only = fs::perms::owner_read | fs::perms::owner_write;

}  // namespace

TEST_CASE("a token is one word of visible ASCII, white space around it dropped") {
  std::string error;
  CHECK(secret::parse_token("  s3cr3t-token_~+/=\n", error) == "s3cr3t-token_~+/=");
  CHECK_FALSE(secret::parse_token("", error));
  CHECK(error == "holds no token");
  CHECK_FALSE(secret::parse_token(" \n\t", error));
  CHECK_FALSE(secret::parse_token("two words", error));
  CHECK(error.find("visible ASCII") != std::string::npos);
  CHECK_FALSE(secret::parse_token("line\r\nX-Injected: 1", error));  // would forge a header
  CHECK_FALSE(secret::parse_token("caf\xc3\xa9", error));
  CHECK(error.find("caf") == std::string::npos);  // the error never quotes the token
  CHECK(secret::parse_token(std::string(secret::max_token, 'a'), error));
  CHECK_FALSE(secret::parse_token(std::string(secret::max_token + 1, 'a'), error));
}

TEST_CASE("a token file must be the owner's alone") {
  CHECK_FALSE(secret::open_to_others(0600));
  CHECK_FALSE(secret::open_to_others(0400));
  CHECK(secret::open_to_others(0640));
  CHECK(secret::open_to_others(0604));
  CHECK(secret::open_to_others(0602));
}

TEST_CASE("the token file wins over the environment; a bad one is an error that names the flag and the file") {
  ::setenv("TREND_TEST_TOKEN", "from-env", 1);
  CHECK(secret::load_token("TREND_TEST_TOKEN", "", "--token-file").token == "from-env");

  temp_file good("from-file\n", owner_only);
  auto got = secret::load_token("TREND_TEST_TOKEN", good.path.string(), "--token-file");
  CHECK(got.error.empty());
  CHECK(got.token == "from-file");

  temp_file open(" from-file ", owner_only | fs::perms::group_read | fs::perms::others_read);
  got = secret::load_token("TREND_TEST_TOKEN", open.path.string(), "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.find("--token-file " + open.path.string()) == 0);
  CHECK(got.error.find("chmod 600") != std::string::npos);
  CHECK(got.error.find("from-file") == std::string::npos);

  temp_file empty("\n", owner_only);
  got = secret::load_token("TREND_TEST_TOKEN", empty.path.string(), "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.find("holds no token") != std::string::npos);

  got = secret::load_token("TREND_TEST_TOKEN", (good.dir / "missing").string(), "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.find("No such file") != std::string::npos);
  ::unsetenv("TREND_TEST_TOKEN");
}

TEST_CASE("no file and an unset or empty variable mean no token, which is no error") {
  ::unsetenv("TREND_TEST_TOKEN");
  auto got = secret::load_token("TREND_TEST_TOKEN", "", "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.empty());
  ::setenv("TREND_TEST_TOKEN", "", 1);
  got = secret::load_token("TREND_TEST_TOKEN", "", "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.empty());
  ::setenv("TREND_TEST_TOKEN", "has space", 1);
  got = secret::load_token("TREND_TEST_TOKEN", "", "--token-file");
  CHECK_FALSE(got.token);
  CHECK(got.error.rfind("TREND_TEST_TOKEN ", 0) == 0);
  CHECK(got.error.find("has space") == std::string::npos);
  ::unsetenv("TREND_TEST_TOKEN");
}

TEST_CASE("tokens compare equal only when every byte and the length agree") {
  CHECK(secret::equal_constant_time("abc", "abc"));
  CHECK_FALSE(secret::equal_constant_time("abc", "abd"));
  CHECK_FALSE(secret::equal_constant_time("abc", "ab"));
  CHECK_FALSE(secret::equal_constant_time("ab", "abc"));
  CHECK_FALSE(secret::equal_constant_time("", "a"));
  CHECK(secret::equal_constant_time("", ""));
}

namespace kafka = common::kafka_settings;

TEST_CASE("kafka settings: passwords, secrets and inline private keys are secrets, the rest is not") {
  for (const char* key : {"sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret",
                          "ssl.key.pem", "ssl_key", "sasl.oauthbearer.config", "SASL.PASSWORD"})
    CHECK_MESSAGE(kafka::is_secret(key), key);
  for (const char* key : {"security.protocol", "sasl.mechanism", "sasl.username", "ssl.ca.location",
                          "ssl.key.location", "session.timeout.ms", "compression.type"})
    CHECK_MESSAGE(!kafka::is_secret(key), key);
}

TEST_CASE("kafka settings: --kafka-option is KEY=VALUE and refuses a secret without quoting its value") {
  std::string error;
  auto s = kafka::parse_option("security.protocol=SASL_SSL", error);
  REQUIRE(s);
  CHECK(s->key == "security.protocol");
  CHECK(s->value == "SASL_SSL");
  s = kafka::parse_option("client.rack=a=b", error);  // the value may hold '='
  REQUIRE(s);
  CHECK(s->value == "a=b");
  CHECK(kafka::parse_option("linger.ms=", error));  // an empty value is librdkafka's to judge
  CHECK_FALSE(kafka::parse_option("no-equals-sign", error));
  CHECK_FALSE(kafka::parse_option("=value", error));
  CHECK_FALSE(kafka::parse_option("two words=x", error));
  error.clear();
  CHECK_FALSE(kafka::parse_option("sasl.password=hunter2", error));
  CHECK(error.find("sasl.password") != std::string::npos);
  CHECK(error.find("--kafka-config") != std::string::npos);
  CHECK(error.find("hunter2") == std::string::npos);
}

TEST_CASE("kafka settings: a properties file, comments and blank lines skipped, a bad line named by number") {
  std::string error;
  auto s = kafka::parse_file("# Kafka\n\n! also a comment\n security.protocol = SASL_SSL \r\nsasl.password=p w=d\n", error);
  REQUIRE(s);
  REQUIRE(s->size() == 2);
  CHECK((*s)[0].key == "security.protocol");
  CHECK((*s)[0].value == "SASL_SSL");
  CHECK((*s)[1].key == "sasl.password");
  CHECK((*s)[1].value == "p w=d");
  CHECK_FALSE(kafka::parse_file("a=1\nsecret-without-key\n", error));
  CHECK(error == "line 2 is not KEY=VALUE");
  CHECK_FALSE(kafka::parse_file(std::string(kafka::max_file + 1, '#'), error));
}

TEST_CASE("kafka settings: a config file with a secret must be the owner's alone; the command line wins") {
  std::string error;
  {
    temp_file open_file("sasl.mechanism=PLAIN\nsasl.password=hunter2\n", owner_only | fs::perms::group_read);
    CHECK_FALSE(kafka::load_file(open_file.path.string(), error));
    CHECK(error.find("chmod 600") != std::string::npos);
    CHECK(error.find("hunter2") == std::string::npos);
  }
  {
    temp_file no_secret("compression.type=lz4\n", owner_only | fs::perms::group_read | fs::perms::others_read);
    CHECK(kafka::load_file(no_secret.path.string(), error));  // nothing to hide: any mode will do
  }
  temp_file file("compression.type=lz4\nsasl.password=hunter2\n", owner_only);
  auto all = kafka::gather(file.path.string(), {"compression.type=zstd"}, error);
  REQUIRE(all);
  REQUIRE(all->size() == 3);
  CHECK((*all)[1].value == "hunter2");
  CHECK((*all)[2].value == "zstd");  // librdkafka takes the last: the command line wins
  CHECK_FALSE(kafka::gather((file.dir / "missing").string(), {}, error));
  CHECK(error.rfind("--kafka-config ", 0) == 0);
  CHECK_FALSE(kafka::gather("", {"ssl.key.password=x"}, error));
  CHECK(error.rfind("--kafka-option ssl.key.password", 0) == 0);
}
