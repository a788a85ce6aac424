// socket_receiver: the engine's ';;' records in, the newest top-10 out to the dashboard.
#include "common/program.hpp"
#include "receiver_app.hpp"
#include "socket_receiver/options.hpp"

int main(int argc, char** argv) {
  return common::program_main("socket_receiver", argc, argv, socket_receiver::parse_options, socket_receiver::run);
}
