// The functions a chat template can call besides filters: the Hub's
// raise_exception and strftime_now, and jinja2's range, dict, namespace.
#pragma once

#include <memory>

#include "model/jinja/interpreter.h"

namespace vkmind::jinja {

// strftime_now() renders this fixed date (26 July 2024, midnight, as
// llama.cpp's template tests do), so that renderings are reproducible.
inline constexpr int kFixedYear = 2024, kFixedMonth = 7, kFixedDay = 26;

std::shared_ptr<Scope> make_globals();

}  // namespace vkmind::jinja
