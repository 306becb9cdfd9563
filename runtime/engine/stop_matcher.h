// Finds stop strings in streamed text. Text that could still turn out to be
// the start of a stop string is held back, so nothing of a stop string is
// ever printed.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vkmind {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  // Adds text; returns what can be emitted now. Sets stopped() when a stop
  // string completed (the text before it is returned, the rest dropped).
  std::string push(std::string_view text);
  // What is still held back (at the end of generation).
  std::string flush() { return std::exchange(pending_, {}); }
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace vkmind
