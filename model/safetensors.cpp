// safetensors parsing and shard resolution. nlohmann::json validates the
// header's syntax and UTF-8; this file validates its meaning.
#include "model/safetensors.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "model/utf8_check.h"

namespace vkmind::safetensors {

namespace {

using nlohmann::json;

constexpr size_t kMaxDims = 4;
// Real headers are kilobytes to a few MiB; a larger claim is corruption, and
// refusing it bounds what the JSON parser may allocate.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DType {
  const char* name;
  TensorType type;
  uint32_t bytes;
};
constexpr DType kDTypes[] = {
    {"F32", TensorType::F32, 4}, {"F16", TensorType::F16, 2}, {"BF16", TensorType::BF16, 2}};

uint64_t json_u64(const json& j, const std::string& path, const std::string& what) {
  if (!j.is_number_unsigned()) throw FormatError(path, what + " is not a non-negative integer");
  return j.get<uint64_t>();
}

}  // namespace

std::unique_ptr<File> File::open(const std::string& path) {
  std::unique_ptr<File> f(new File());
  f->path_ = path;
  f->mapping_ = std::make_unique<MappedFile>(path);
  const auto bytes = f->mapping_->bytes();
  if (bytes.size() < 8) throw FormatError(path, "truncated: no safetensors header length");
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > bytes.size() - 8 || header_len > kMaxHeaderBytes) {
    throw FormatError(path, "header length " + std::to_string(header_len) + " exceeds the file size " +
                                std::to_string(bytes.size()));
  }
  f->data_offset_ = 8 + header_len;
  const uint64_t data_size = bytes.size() - f->data_offset_;

  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<ptrdiff_t>(header_len));
  } catch (const json::exception& e) {
    throw FormatError(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw FormatError(path, "header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) throw FormatError(path, "__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (m->is_string()) f->metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const std::string what = "tensor " + printable_name(name);
    const json& t = *it;
    if (!t.is_object()) throw FormatError(path, what + ": entry is not an object");
    TensorInfo info;
    info.name = name;
    if (!t.contains("dtype") || !t["dtype"].is_string()) throw FormatError(path, what + ": missing dtype");
    info.dtype = t["dtype"].get<std::string>();
    const DType* dt = nullptr;
    for (const auto& d : kDTypes) {
      if (info.dtype == d.name) dt = &d;
    }
    if (!dt) {
      throw FormatError(path, what + " has dtype " + printable_name(info.dtype) +
                                  ", which vkmind does not support (F32, F16, BF16)");
    }
    info.type = dt->type;
    if (!t.contains("shape") || !t["shape"].is_array()) throw FormatError(path, what + ": missing shape");
    const json& shape = t["shape"];
    if (shape.size() > kMaxDims) {
      throw FormatError(path, what + " has " + std::to_string(shape.size()) + " dimensions (at most 4 are allowed)");
    }
    uint64_t n = 1;
    for (const auto& d : shape) {
      const uint64_t v = json_u64(d, path, what + ": a dimension");
      if (v != 0 && n > std::numeric_limits<uint64_t>::max() / dt->bytes / v) {
        throw FormatError(path, what + ": the product of its dimensions overflows");
      }
      n *= v;
      info.shape.push_back(v);
    }
    info.n_elements = n;
    if (!t.contains("data_offsets") || !t["data_offsets"].is_array() || t["data_offsets"].size() != 2) {
      throw FormatError(path, what + ": data_offsets must be [begin, end]");
    }
    info.begin = json_u64(t["data_offsets"][0], path, what + ": data_offsets[0]");
    info.end = json_u64(t["data_offsets"][1], path, what + ": data_offsets[1]");
    if (info.begin > info.end || info.end > data_size) {
      throw FormatError(path, what + ": data_offsets [" + std::to_string(info.begin) + ", " +
                                  std::to_string(info.end) + ") lie outside the " + std::to_string(data_size) +
                                  "-byte data section");
    }
    if (info.end - info.begin != n * dt->bytes) {
      throw FormatError(path, what + ": data_offsets span " + std::to_string(info.end - info.begin) +
                                  " bytes but its shape needs " + std::to_string(n * dt->bytes));
    }
    f->index_.emplace(name, f->tensors_.size());
    f->tensors_.push_back(std::move(info));
  }
  return f;
}

const TensorInfo* File::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> File::mapped_bytes() const { return mapping_->bytes(); }

std::span<const uint8_t> File::data(const TensorInfo& t) const {
  return mapping_->bytes().subspan(data_offset_ + t.begin, t.end - t.begin);
}

// ---- Collection ------------------------------------------------------------

const Collection::Entry* Collection::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::unique_ptr<Collection> Collection::open_folder(const std::string& folder) {
  namespace fs = std::filesystem;
  auto c = std::make_unique<Collection>();
  const fs::path dir(folder);
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";

  auto add_file = [&](const fs::path& p) -> const File* {
    c->files_.push_back(File::open(p.string()));
    const File* f = c->files_.back().get();
    for (const auto& t : f->tensors()) {
      if (!c->tensors_.emplace(t.name, Entry{f, &t}).second) {
        throw FormatError(p.string(), "duplicate tensor " + t.name + " (also in another shard)");
      }
    }
    return f;
  };

  if (fs::exists(index)) {
    const std::string ipath = index.string();
    json j;
    try {
      std::ifstream in(index, std::ios::binary);
      j = json::parse(in);
    } catch (const json::exception& e) {
      throw FormatError(ipath, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw FormatError(ipath, "key 'weight_map' is missing or not an object");
    }
    const json& wm = j["weight_map"];
    std::map<std::string, const File*> opened;
    for (auto it = wm.begin(); it != wm.end(); ++it) {
      if (!it->is_string()) throw FormatError(ipath, "weight_map['" + it.key() + "'] is not a string");
      const std::string shard = it->get<std::string>();
      // Shards live next to the index: a path that leaves the folder is hostile.
      if (shard.empty() || shard.find('/') != std::string::npos || shard.find('\\') != std::string::npos ||
          shard == "." || shard == "..") {
        throw FormatError(ipath, "weight_map['" + it.key() + "']: bad shard file name '" + printable_name(shard) + "'");
      }
      if (!opened.count(shard)) opened[shard] = add_file(dir / shard);
      const File* f = opened[shard];
      if (!f->find(it.key())) {
        throw FormatError(f->path(), "tensor " + it.key() + " is listed in model.safetensors.index.json but missing here");
      }
    }
    if (opened.empty()) throw FormatError(ipath, "weight_map is empty");
    return c;
  }
  if (fs::exists(single)) {
    add_file(single);
    return c;
  }
  throw FormatError(folder, "no model.safetensors or model.safetensors.index.json in this folder");
}

}  // namespace vkmind::safetensors
