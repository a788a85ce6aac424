// POST /updateDashboard with a form body (what socket_receiver posts): any bytes as the body of
// dashboard_server::update_dashboard never throw; see update.hpp for what else is checked.
#include <cstddef>
#include <cstdint>

#include "update.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  trend_fuzz::check_update(trend_fuzz::form_type, trend_fuzz::as_text(data, size));
  return 0;
}
