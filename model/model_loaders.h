// Internal: the per-format halves of Model::open. Each loader fills the
// description and the stored tensors under canonical names; ModelBuilder::
// finish then checks every tensor against the description, format-blind.
#pragma once

#include <string>

#include "model/model_desc.h"

namespace vkmind {

struct ModelBuilder {
  static void load_gguf(Model& m, const std::string& path);    // model_gguf.cpp
  static void load_hf(Model& m, const std::string& folder);    // model_hf.cpp
  static void finish(Model& m);                                // model_desc.cpp

  // Registers a stored tensor (and its lookup view); duplicate names throw.
  static void add_stored(Model& m, ModelTensor t, const std::string& file, const std::string& stored_name);
  static void add_view(Model& m, ModelTensor t, const std::string& file, const std::string& stored_name);
  static bool has(const Model& m, const std::string& name) { return m.views_.count(name) > 0; }
  static const ModelTensor* find(const Model& m, const std::string& name) {
    auto it = m.views_.find(name);
    return it == m.views_.end() ? nullptr : &it->second;
  }
};

std::string format_dims(const std::vector<uint64_t>& dims);

}  // namespace vkmind
