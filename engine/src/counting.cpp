#include "engine/counting.hpp"

#include <algorithm>

#include "engine/normalize.hpp"
#include "engine/twitter_text.hpp"

namespace engine {

window_options window_settings(const config& cfg) {
  window_options o;
  o.top = cfg.top;
  o.slots = cfg.slide.count() > 0 ? std::max<std::size_t>(1, static_cast<std::size_t>(cfg.window / cfg.slide)) : 1;
  o.score = cfg.score;
  o.min_count = cfg.min_count;
  return o;
}

counting::counting(const config& cfg) : counting(cfg, false) {}

counting::counting(const config& cfg, bool by_origin) {
  if (cfg.window.count() > 0) {
    auto settings = window_settings(cfg);
    settings.by_origin = by_origin;
    window_.emplace(settings);
  } else {
    all_time_.emplace(cfg.top, by_origin);
  }
}

std::string counting::save_with_origins() const {
  std::string out = save();
  bytes_out b(out);
  if (window_) window_->save_origins(b);
  else all_time_->save_origins(b);
  return out;
}

bool counting::restore_with_origins(std::string_view bytes, std::string& why) {
  bytes_in in(bytes);
  bool ok = window_ ? window_->restore(in, why) : all_time_->restore(in);
  if (ok) ok = window_ ? window_->restore_origins(in) : all_time_->restore_origins(in);
  if (ok && in.left() != 0) {
    why = std::to_string(in.left()) + " bytes left over";
    ok = false;
  }
  if (!ok) {  // a failed restore leaves an empty state; so does restoring nothing
    if (why.empty()) why = "malformed";
    bytes_in none{std::string_view{}};
    std::string ignored;
    if (window_) (void)window_->restore(none, ignored);
    else (void)all_time_->restore(none);
  }
  return ok;
}

std::string counting::save() const {
  std::string out;
  bytes_out b(out);
  if (window_) window_->save(b);
  else all_time_->save(b);
  return out;
}

bool counting::restore(std::string_view bytes, std::string& why) {
  bytes_in in(bytes);
  const bool ok = window_ ? window_->restore(in, why) : all_time_->restore(in);
  if (ok && in.left() != 0) {
    why = std::to_string(in.left()) + " bytes left over";
    return false;
  }
  if (!ok && why.empty()) why = "malformed";
  return ok;
}

void tweet_tags::start(std::string_view tweet) {
  if (rule_ == hashtag_rule::python) {
    cursor_ = hashtag_cursor(tweet);
    return;
  }
  found_.clear();
  next_found_ = 0;
  extract_hashtags(tweet, found_);
}

bool tweet_tags::next() {
  if (rule_ == hashtag_rule::python) {
    display_ = cursor_.next();
    if (display_.empty()) return false;
  } else {
    if (next_found_ >= found_.size()) return false;
    display_buf_.assign(1, '#');
    display_buf_ += found_[next_found_++];
    display_ = display_buf_;
  }
  if (norm_ == normalization::none) {
    key_ = display_;
  } else {
    normalize_nfkc_lower(display_, key_buf_);
    key_ = key_buf_;
  }
  return true;
}

}  // namespace engine
