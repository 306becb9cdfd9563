// Access to ../shared test data. When the folder is absent (a user's clone)
// the test is skipped with a message; under CI (CI=true) that is a failure.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace vkmind::test {

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

// Returns the full path of shared/<relative>, or "" when it is missing: then
// the caller must return (the test is skipped) — in CI this has already FAILed.
inline std::string shared_file(const std::string& relative) {
  const char* env = std::getenv("VKMIND_SHARED_DIR");
  std::filesystem::path root = env ? env : VKMIND_SHARED_DIR;
  std::filesystem::path p = root / relative;
  if (std::filesystem::exists(p)) return p.string();
  if (running_in_ci()) {
    FAIL("shared test data missing under CI: " << p.string());
  }
  WARN("SKIPPED: shared test data not found: " << p.string());
  return "";
}

}  // namespace vkmind::test
