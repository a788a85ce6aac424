// The engine's saved state read back from any bytes (a corrupt or hostile state file): the log
// records and snapshot frames of --state-dir, the delivery sessions, and the counters. Restore
// either refuses and leaves an empty state, or accepts a state that saves back to a state that
// restores to the same counts; it never crashes nor holds more than the input allows.
#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "engine/delivery_sessions.hpp"
#include "engine/top_counter.hpp"
#include "engine/wal.hpp"
#include "engine/windowed_counter.hpp"

using trend_fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in = trend_fuzz::as_text(data, size);
  // The log and snapshot framing of a state directory: records are read or refused, never past
  // the input; a record read back re-encodes to the same bytes.
  for (std::string_view rest = in; !rest.empty();) {
    const auto r = engine::wal::read_record(rest);
    if (!r) break;
    check(r.consumed <= rest.size() && r.consumed > 8, "a record consumed outside the input");
    std::string again;
    if (r->type == engine::wal::record_type::tweet)
      engine::wal::append_tweet(again, r->lsn, r->session, r->frame, r->text);
    else
      engine::wal::append_slide(again, r->lsn, r->slides, r->wall_ms);
    check(again == rest.substr(0, r.consumed), "a log record does not re-encode to its bytes");
    rest.remove_prefix(r.consumed);
  }
  if (const auto snap = engine::wal::decode_snapshot(in))
    check(engine::wal::encode_snapshot(*snap) == in, "a snapshot does not re-encode to its bytes");
  {
    engine::delivery_sessions sessions;
    engine::bytes_in read(in);
    if (!sessions.restore(read)) check(sessions.size() == 0, "refused sessions left entries");
    check(sessions.size() <= engine::delivery_sessions::max_sessions, "too many sessions");
  }
  {
    engine::top_counter c(3);
    engine::bytes_in read(in);
    if (c.restore(read)) {
      std::string saved;
      engine::bytes_out out(saved);
      c.save(out);
      engine::top_counter d(3);
      engine::bytes_in again(saved);
      check(d.restore(again) && d.top() == c.top() && d.distinct() == c.distinct(), "all-time state does not round-trip");
      c.add("#after");  // a restored state goes on working
    } else {
      check(c.distinct() == 0, "a refused state left tags behind");
    }
  }
  for (const auto kind : {engine::score_kind::count, engine::score_kind::trend}) {
    engine::window_options o;
    o.slots = 2;
    o.top = 3;
    o.score = kind;
    engine::windowed_counter c(o);
    engine::bytes_in read(in);
    std::string why;
    if (c.restore(read, why)) {
      std::string saved;
      engine::bytes_out out(saved);
      c.save(out);
      engine::windowed_counter d(o);
      engine::bytes_in again(saved);
      check(d.restore(again, why) && d.top() == c.top() && d.distinct() == c.distinct(), "window does not round-trip");
      c.add("#after");
      c.slide();
      c.slide();
      c.slide();
    } else {
      check(c.distinct() == 0, "a refused window left tags behind");
    }
  }
  return 0;
}
