#pragma once
// What both update-body targets check: POST /updateDashboard never throws, answers 201 or 400
// with a body, changes the board only on 201, and the board it makes survives being posted again
// the way the receiver posts it (a form of Python literals) and as JSON.
#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "check.hpp"
#include "dashboard_server/routes.hpp"
#include "wire/pylit.hpp"
#include "wire/url.hpp"

namespace trend_fuzz {

inline constexpr std::string_view form_type = "application/x-www-form-urlencoded";
inline constexpr std::string_view json_type = "application/json";

/// A board that already holds a top list, so that a refused update can be seen to change nothing.
inline dashboard_server::board some_board() {
  return dashboard_server::board{{"#before", "#it's"}, {2, 1}, 7, 1764064800123};
}

/// update_dashboard, with an escaping exception turned into a crash that says what it was.
inline dashboard_server::response update(dashboard_server::board& b, std::string_view content_type,
                                         std::string_view body, std::int64_t now_ms) {
  try {
    return dashboard_server::update_dashboard(b, content_type, body, now_ms);
  } catch (const std::exception& e) {
    check(false, std::string("update_dashboard threw: ") + e.what());
  } catch (...) {
    check(false, "update_dashboard threw something that is not a std::exception");
  }
  return {};
}

/// Posts `body` to a fresh board and checks the reply and the board.
inline void check_update(std::string_view content_type, std::string_view body) {
  constexpr std::int64_t now_ms = 1764064900456;
  const dashboard_server::board before = some_board();
  dashboard_server::board b = before;
  const auto r = update(b, content_type, body, now_ms);
  check(!r.body.empty(), "a reply without a body");
  if (r.status != 201) {
    check(r.status == 400, "an update answered neither 201 nor 400");
    check(b == before, "a refused update changed the board");
    return;
  }
  check(b.version == before.version + 1 && b.updated_ms == now_ms, "an accepted update did not bump the version");
  check(b.labels.size() == b.counts.size(), "the board's lists differ in length");

  // The same top list posted again as the receiver posts it, and as JSON.
  const std::string form_body = wire::url::encode_form(
      {{"label", wire::pylit::repr_list(std::span<const std::string>(b.labels))},
       {"data", wire::pylit::repr_list(std::span<const std::int64_t>(b.counts))}});
  dashboard_server::board from_form = before;
  check(update(from_form, form_type, form_body, now_ms).status == 201, "the board posted as a form is refused");
  check(from_form.labels == b.labels && from_form.counts == b.counts, "the board posted as a form changed");

  const std::string json_body = nlohmann::json{{"label", b.labels}, {"data", b.counts}}.dump();
  dashboard_server::board from_json = before;
  check(update(from_json, json_type, json_body, now_ms).status == 201, "the board posted as JSON is refused");
  check(from_json.labels == b.labels && from_json.counts == b.counts, "the board posted as JSON changed");

  // What the page reads back is JSON whatever the labels hold.
  check(nlohmann::json::accept(dashboard_server::refresh_dashboard(b, 0).body), "refreshDashboard is not JSON");
}

}  // namespace trend_fuzz
