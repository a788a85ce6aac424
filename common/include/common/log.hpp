#pragma once
// One log line per event on stderr: "2026-11-25T10:00:00.123Z engine info: message".
// Lines are written with one write() so that concurrent lines never interleave.
#include <string_view>

namespace common::log {

enum class level { debug, info, warn, error };

/// Names the program in every line; call once at start-up.
void set_program(std::string_view name);

/// Lines below this level are dropped (default info).
void set_level(level min);

void write(level lv, std::string_view message);
inline void debug(std::string_view m) { write(level::debug, m); }
inline void info(std::string_view m) { write(level::info, m); }
inline void warn(std::string_view m) { write(level::warn, m); }
inline void error(std::string_view m) { write(level::error, m); }

}  // namespace common::log
