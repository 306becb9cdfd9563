// Build-time tool: sets the default values of a SPIR-V module's
// specialization constants (SpecId i = the i-th value), as the module would
// be specialized at pipeline creation: integers take the value, booleans
// true when it is nonzero (as Vulkan reads a VkBool32). spirv-opt's own
// --set-spec-const-default-value wants "true"/"false" for booleans and
// silently keeps the default for "1". `spirv-opt --freeze-spec-const
// --fold-spec-const-op-composite -O` then folds and unrolls the result
// (cmake/Shaders.cmake); without the fold, constants derived from the
// specialization constants (ROWS * NT, ...) stay symbolic and most [[unroll]]
// loops stay loops.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <vector>

namespace {

constexpr uint32_t kOpDecorate = 71, kOpSpecConstantTrue = 48, kOpSpecConstantFalse = 49, kOpSpecConstant = 50;
constexpr uint32_t kDecorationSpecId = 1;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: specialize_spirv INPUT.spv OUTPUT.spv VALUE...\n");
    return 2;
  }
  std::vector<uint32_t> values;
  for (int i = 3; i < argc; ++i) values.push_back(uint32_t(std::strtoul(argv[i], nullptr, 0)));
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (bytes.size() < 20 || bytes.size() % 4 != 0) {
    std::fprintf(stderr, "specialize_spirv: %s is not SPIR-V\n", argv[1]);
    return 1;
  }
  std::vector<uint32_t> words(bytes.size() / 4);
  for (size_t i = 0; i < words.size(); ++i) {
    words[i] = uint32_t(uint8_t(bytes[4 * i])) | uint32_t(uint8_t(bytes[4 * i + 1])) << 8 |
               uint32_t(uint8_t(bytes[4 * i + 2])) << 16 | uint32_t(uint8_t(bytes[4 * i + 3])) << 24;
  }
  if (words[0] != 0x07230203u) {
    std::fprintf(stderr, "specialize_spirv: %s is not little-endian SPIR-V\n", argv[1]);
    return 1;
  }
  // Two passes: decorations come before the constants they name.
  std::map<uint32_t, uint32_t> spec_id;  // result id -> SpecId
  for (size_t at = 5; at < words.size();) {
    const uint32_t op = words[at] & 0xffff, count = words[at] >> 16;
    if (count == 0 || at + count > words.size()) {
      std::fprintf(stderr, "specialize_spirv: %s: a malformed instruction at word %zu\n", argv[1], at);
      return 1;
    }
    if (op == kOpDecorate && count == 4 && words[at + 2] == kDecorationSpecId) spec_id[words[at + 1]] = words[at + 3];
    at += count;
  }
  for (size_t at = 5; at < words.size(); at += words[at] >> 16) {
    const uint32_t op = words[at] & 0xffff, count = words[at] >> 16;
    if (op != kOpSpecConstantTrue && op != kOpSpecConstantFalse && op != kOpSpecConstant) continue;
    const auto id = spec_id.find(words[at + 2]);
    if (id == spec_id.end() || id->second >= values.size()) continue;
    const uint32_t v = values[id->second];
    if (op == kOpSpecConstant) {
      if (count != 4) {
        std::fprintf(stderr, "specialize_spirv: %s: SpecId %u is not a 32-bit constant\n", argv[1], id->second);
        return 1;
      }
      words[at + 3] = v;
    } else {
      words[at] = (count << 16) | (v ? kOpSpecConstantTrue : kOpSpecConstantFalse);
    }
  }
  std::ofstream out(argv[2], std::ios::binary);
  for (uint32_t w : words) {
    const char le[4] = {char(w & 0xff), char(w >> 8 & 0xff), char(w >> 16 & 0xff), char(w >> 24)};
    out.write(le, 4);
  }
  return out ? 0 : 1;
}
