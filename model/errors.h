// Errors raised while reading model files. The message always names the file
// and, where there is one, the key or tensor at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace vkmind {

class FormatError : public std::runtime_error {
 public:
  FormatError(const std::string& file, const std::string& what)
      : std::runtime_error(file + ": " + what), file_(file) {}
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace vkmind
