#include "model/hub/file_selection.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace vkmind::hub {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const std::regex& split_suffix() {
  static const std::regex re("-(\\d{5})-of-(\\d{5})$");
  return re;
}

bool is_split_part(const std::string& path) {
  std::string stem = base_name(path);
  stem = stem.substr(0, stem.size() - 5);  // ".gguf"
  return std::regex_search(stem, split_suffix());
}

}  // namespace

std::vector<std::string> hf_folder_files(const std::vector<std::string>& listing) {
  static const std::set<std::string> kNamed = {"config.json",         "tokenizer.json",      "tokenizer_config.json",
                                               "generation_config.json", "chat_template.jinja", "chat_template.json",
                                               "special_tokens_map.json"};
  std::vector<std::string> files;
  for (const std::string& f : listing) {
    if (f.find('/') != std::string::npos) continue;
    if (kNamed.count(f) || ends_with(f, ".safetensors") || ends_with(f, ".safetensors.index.json")) files.push_back(f);
  }
  return files;
}

bool is_loadable_hf_folder(const std::vector<std::string>& files) {
  const bool config = std::find(files.begin(), files.end(), "config.json") != files.end();
  const bool weights = std::any_of(files.begin(), files.end(), [](const std::string& f) { return ends_with(f, ".safetensors"); });
  return config && weights;
}

std::string gguf_quant_of(const std::string& path) {
  std::string name = base_name(path);
  if (!ends_with(lower(name), ".gguf") || lower(name).rfind("mmproj", 0) == 0) return "";
  std::string stem = name.substr(0, name.size() - 5);
  stem = std::regex_replace(stem, split_suffix(), "");
  // llama.cpp's type names (Q8_0, Q4_K_M, IQ4_XS, TQ1_0, UD-Q4_K_XL's Q4_K_XL,
  // F16, BF16, FP16, F32) at the end of the name, after a '-', '.' or '_'.
  static const std::regex quant("(?:^|[-._])((?:[it]?q\\d+(?:_[a-z0-9]+)*)|(?:b?f(?:p)?(?:16|32)))$", std::regex::icase);
  std::smatch m;
  if (!std::regex_search(stem, m, quant)) return "";
  return upper(m[1].str());
}

std::vector<std::string> gguf_quants(const std::vector<std::string>& listing) {
  std::set<std::string> quants;
  for (const std::string& f : listing) {
    if (std::string q = gguf_quant_of(f); !q.empty()) quants.insert(q);
  }
  return {quants.begin(), quants.end()};
}

GgufChoice select_gguf(const std::vector<std::string>& listing, const std::string& quant) {
  std::vector<std::string> single, parts;
  for (const std::string& f : listing) {
    if (gguf_quant_of(f) != upper(quant)) continue;
    (is_split_part(f) ? parts : single).push_back(f);
  }
  GgufChoice choice;
  if (!single.empty()) {
    choice.files = {*std::min_element(single.begin(), single.end(), [](const std::string& a, const std::string& b) {
      return a.size() != b.size() ? a.size() < b.size() : a < b;
    })};
  } else {
    std::sort(parts.begin(), parts.end());
    choice.files = parts;
  }
  return choice;
}

}  // namespace vkmind::hub
