#include "engine/options.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <list>
#include <sstream>
#include <utility>

namespace engine {

namespace {

std::vector<common::host_port> parse_address_list(const std::string& text) {
  // Wallaroo takes comma-separated lists (one address per pipeline source).
  std::vector<common::host_port> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto hp = common::parse_host_port(item);
    if (!hp) throw CLI::ValidationError("--in", "'" + item + "' is not HOST:PORT (or [IPv6]:PORT)");
    out.push_back(*hp);
  }
  if (out.empty()) throw CLI::ValidationError("--in", "no address given");
  return out;
}

}  // namespace

common::cli::outcome<config> parse_options(int argc, const char* const* argv) {
  CLI::App app{
      "engine: the trending-hashtags stream processor.\n"
      "Reads tweets (5-digit framed, as twitter_client sends them, or one per line), counts every\n"
      "white-space-delimited word that starts with '#', and for each hashtag sends the all-time\n"
      "top N to the receiver as a ';;'-terminated record, byte for byte as the original\n"
      "Wallaroo application did.",
      "engine"};
  std::string in_text = "127.0.0.1:8002";
  config cfg;
  std::string format = "framed";
  app.add_option("--in", in_text, "HOST:PORT to listen on for tweets (comma-separated for several)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  common::cli::add_address(app, "--out", cfg.out, "HOST:PORT of the receiver to connect to and send records");
  app.add_option("--top", cfg.top, "How many hashtags each record lists")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--input-format", format,
                 "framed: 5-digit length then payload (twitter_client, the original client);\n"
                 "lines: one tweet per line (for typing into nc)")
      ->type_name("FORMAT")
      ->capture_default_str()
      ->check(CLI::IsMember({"framed", "lines"}));
  double receiver_timeout_s = 3, idle_timeout_s = 0;
  app.add_option("--receiver-timeout", receiver_timeout_s,
                 "Seconds a receiver may take no bytes while records wait before it is treated as gone:\n"
                 "closed, reconnected with back-off, sent the newest record first (0: wait for ever)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--idle-timeout", idle_timeout_s,
                 "Close a source connection that completes no message for this many seconds (0: never)")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  common::cli::add_common_flags(app, cfg.flags);

  // machida's command line from the tutorial, accepted unchanged and ignored: this engine has the
  // application built in, one worker, no cluster, no metrics.
  auto* compat = app.add_option_group("machida compatibility",
                                      "Accepted so that machida's command line works unchanged; ignored.");
  std::vector<std::string> seen;
  std::list<std::vector<std::string>> values;  // one store per option, at a stable address
  std::vector<std::pair<std::string, std::vector<std::string>*>> valued;
  for (const char* name : {"--application-module", "--metrics", "--control", "--data", "--worker-name", "--name",
                           "--external", "--resilience-dir", "--join", "--worker-count", "--my-control",
                           "--my-data", "--event-log-file-size", "--spike-seed", "--spike-drop", "--spike-delay",
                           "--ponythreads", "--ponyminthreads", "--ponycdmin", "--ponycdmax", "--ponycdconf",
                           "--ponygcinitial", "--ponygcfactor"}) {
    auto& store = values.emplace_back();
    compat->add_option(name, store, "machida's " + std::string(name) + "; ignored")->type_name("VALUE");
    valued.emplace_back(name, &store);
  }
  std::list<std::int64_t> flag_counts;
  std::vector<std::pair<std::string, std::int64_t*>> flags;
  for (const char* name : {"--cluster-initializer", "--log-rotation", "--run-with-resilience", "--ponynoblock",
                           "--ponypin", "--ponypinasio", "--ponynoyield", "--ponynoscale"}) {
    auto& count = flag_counts.emplace_back(0);
    compat->add_flag(name, count, "machida's " + std::string(name) + "; ignored");
    flags.emplace_back(name, &count);
  }

  if (auto stop = common::cli::parse(app, argc, argv)) return {std::nullopt, *stop};
  try {
    cfg.in = parse_address_list(in_text);
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, app.exit(e) == 0 ? 0 : 2};
  }
  cfg.format = format == "lines" ? input_format::lines : input_format::framed;
  cfg.receiver_timeout = std::chrono::milliseconds(static_cast<long long>(receiver_timeout_s * 1000));
  cfg.idle_timeout = std::chrono::milliseconds(static_cast<long long>(idle_timeout_s * 1000));
  for (const auto& [name, store] : valued)
    for (const auto& v : *store) seen.push_back(name + "=" + v);
  for (const auto& [name, count] : flags)
    for (std::int64_t k = 0; k < *count; ++k) seen.push_back(name);
  cfg.machida_options = std::move(seen);
  return {std::move(cfg), 0};
}

}  // namespace engine
