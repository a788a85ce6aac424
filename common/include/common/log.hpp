#pragma once
// One log line per event on stderr: "2026-11-25T10:00:00.123Z engine info: message".
// Lines are written with one write() so that concurrent lines never interleave. Text that came
// from outside (peers, files, servers) goes through escape() first, so it cannot forge lines
// or send terminal escapes.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace common::log {

enum class level { debug, info, warn, error };

/// Names the program in every line; call once at start-up.
void set_program(std::string_view name);

/// Lines below this level are dropped (default info).
void set_level(level min);

/// "debug", "info", "warn" or "error"; nullopt for anything else.
std::optional<level> parse_level(std::string_view name);

void write(level lv, std::string_view message);
inline void debug(std::string_view m) { write(level::debug, m); }
inline void info(std::string_view m) { write(level::info, m); }
inline void warn(std::string_view m) { write(level::warn, m); }
inline void error(std::string_view m) { write(level::error, m); }

/// Outside text made safe for a log line: printable ASCII and well-formed printable UTF-8 stay,
/// a backslash is doubled, \n \r \t are written as such, every other control byte, C1 control
/// and invalid byte becomes \xNN. At most `max_bytes` of input are shown, then "...(N bytes)".
std::string escape(std::string_view text, std::size_t max_bytes = 300);

}  // namespace common::log
