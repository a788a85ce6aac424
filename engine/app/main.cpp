// engine: the Wallaroo-style stream processor of the trending-hashtags pipeline.
#include "common/program.hpp"
#include "engine/options.hpp"
#include "engine_app.hpp"

int main(int argc, char** argv) { return common::program_main("engine", argc, argv, engine::parse_options, engine::run); }
