// Element-wise comparison against a CPU reference with a per-element
// tolerance abs_tol + rel_tol * |want|. NaN or inf on the GPU side counts as
// a mismatch (a plain max-difference check would let NaN through, since
// every comparison with NaN is false).
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

namespace vkmind::test {

inline void require_close(const std::vector<float>& got, const std::vector<double>& want, double rel_tol,
                          double abs_tol) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(double(got[i]) - want[i]);
    const double tol = abs_tol + rel_tol * std::fabs(want[i]);
    if (!(err <= tol)) {
      if (bad++ == 0) first = i;
    }
    if (err > worst || std::isnan(err)) worst = std::isnan(err) ? INFINITY : err;
  }
  INFO("mismatches " << bad << " of " << got.size() << "; first at " << first << ": got "
                     << (got.empty() ? 0.0 : double(got[first])) << ", want " << (want.empty() ? 0.0 : want[first])
                     << "; worst |err| " << worst);
  REQUIRE(bad == 0);
}

}  // namespace vkmind::test
