// mock_cluster: a Kafka test cluster from librdkafka's mock brokers, which speak the Kafka protocol
// over TCP (produce, fetch, consumer groups with rebalancing, offset commits), for the tests and
// `KAFKA=mock scripts/run.sh`. Nothing in the programs knows it is a mock.
//
//   mock_cluster [--brokers 3] [--topic NAME:PARTITIONS]... [--until-signal]
//
// Prints the bootstrap servers on the first line of stdout, then "ready", and serves until stdin
// ends (or SIGINT/SIGTERM; with --until-signal, stdin is not read and only SIGTERM stops it:
// scripts/run.sh stops it after the engines). Commands on stdin, one per line, each answered "ok" or "error: ...":
//   down ID    the broker ID (1..N) stops answering: its connections are closed
//   up ID      it answers again
//   stop       shut down
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) { stop_requested = 1; }

int usage() {
  std::cerr << "usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS]... [--until-signal]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<std::pair<std::string, int>> topics;
  bool until_signal = false;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    if (arg == "--until-signal") {
      until_signal = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << "usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS]... [--until-signal]\n"
                   "Starts librdkafka's mock Kafka cluster, prints its bootstrap servers, serves until stdin ends\n"
                   "(--until-signal: until SIGTERM).\n"
                   "stdin commands: down ID, up ID, stop\n";
      return 0;
    }
    if (k + 1 >= argc) return usage();
    const std::string value = argv[++k];
    if (arg == "--brokers") {
      brokers = std::atoi(value.c_str());
      if (brokers < 1 || brokers > 16) return usage();
    } else if (arg == "--topic") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0) return usage();
      const int partitions = std::atoi(value.c_str() + colon + 1);
      if (partitions < 1 || partitions > 1000) return usage();
      topics.emplace_back(value.substr(0, colon), partitions);
    } else {
      return usage();
    }
  }

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; it produces nothing. Its log goes to stderr.
  if (rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::cerr << "mock_cluster: " << err << "\n";
    return 1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "mock_cluster: " << err << "\n";
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!cluster) {
    std::cerr << "mock_cluster: could not start the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    const int replication = brokers < 3 ? brokers : 3;
    if (const auto e = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, replication)) {
      std::cerr << "mock_cluster: topic " << name << ": " << rd_kafka_err2str(e) << "\n";
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  std::cout << rd_kafka_mock_cluster_bootstraps(cluster) << "\nready" << std::endl;

  // --until-signal (scripts/run.sh): a Ctrl-C reaches every process of the terminal at once; the
  // cluster waits for the SIGTERM that run.sh sends once the engines have left it.
  std::signal(SIGINT, until_signal ? SIG_IGN : on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  if (!until_signal) {
    // stdin is read by a thread of its own so that a signal stops the cluster even while it waits.
    std::thread reader([cluster] {
      std::string line;
      while (!stop_requested && std::getline(std::cin, line)) {
        char command[16] = {};
        int id = 0;
        if (line == "stop") break;
        if (std::sscanf(line.c_str(), "%15s %d", command, &id) != 2 || id < 1) {
          std::cout << "error: commands are 'down ID', 'up ID', 'stop'" << std::endl;
          continue;
        }
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (std::strcmp(command, "down") == 0) e = rd_kafka_mock_broker_set_down(cluster, id);
        else if (std::strcmp(command, "up") == 0) e = rd_kafka_mock_broker_set_up(cluster, id);
        else {
          std::cout << "error: unknown command" << std::endl;
          continue;
        }
        if (e) std::cout << "error: " << rd_kafka_err2str(e) << std::endl;
        else std::cout << "ok" << std::endl;
      }
      stop_requested = 1;
    });
    reader.detach();
  }
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
