// Errors of the Hub client. Every message names the repository, file or URL.
#pragma once

#include <stdexcept>
#include <string>

namespace vkmind::hub {

class HubError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The Hub could not be reached at all (no network, DNS, refused): the caller
// may fall back to what is cached.
class HubUnreachable : public HubError {
 public:
  using HubError::HubError;
};

// A failure worth another try after a pause: 5xx, 429, a cut connection, a stall.
class TransientError : public HubError {
 public:
  using HubError::HubError;
};

}  // namespace vkmind::hub
