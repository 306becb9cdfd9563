// Every failure of the template engine: a syntax error, a construct it does
// not implement, a runtime error (as jinja2 would raise), or the template's
// own raise_exception(). The message names the template line when known.
#pragma once

#include <stdexcept>
#include <string>

namespace vkmind::jinja {

class TemplateError : public std::runtime_error {
 public:
  explicit TemplateError(const std::string& message, int line = 0)
      : std::runtime_error(line > 0 ? "template line " + std::to_string(line) + ": " + message : message),
        message_(message), line_(line) {}
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  // The same error, now placed at `line` (kept when it already has one).
  TemplateError at_line(int line) const { return line_ > 0 ? *this : TemplateError(message_, line); }

 private:
  std::string message_;
  int line_;
};

}  // namespace vkmind::jinja
