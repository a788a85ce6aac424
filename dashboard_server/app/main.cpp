// dashboard_server: the live page. Keeps the newest top-10 posted by the receiver, serves it as
// JSON (polling) and as Server-Sent Events (live push), and serves the page and Chart.js.
#include "common/program.hpp"
#include "dashboard_app.hpp"
#include "dashboard_server/options.hpp"

int main(int argc, char** argv) {
  return common::program_main("dashboard_server", argc, argv, dashboard_server::parse_options, dashboard_server::run);
}
