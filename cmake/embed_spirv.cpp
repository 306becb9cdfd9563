// Build-time tool: turns one .spv file into a C++ source that defines the
// words as a constant array and registers them under the shader's name, so
// the vkmind library carries its kernels and needs no files at run time.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: embed_spirv NAME INPUT.spv OUTPUT.cpp\n");
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in.good() && !in.eof()) return 1;
  if (bytes.empty() || bytes.size() % 4 != 0) {
    std::fprintf(stderr, "embed_spirv: %s is not SPIR-V (size %zu)\n", argv[2], bytes.size());
    return 1;
  }
  std::FILE* out = std::fopen(argv[3], "w");
  if (!out) return 1;
  std::fprintf(out, "// Generated from %s by embed_spirv. Do not edit.\n", argv[2]);
  std::fprintf(out, "#include \"runtime/vk/shader_registry.h\"\n");
  std::fprintf(out, "namespace {\nconst uint32_t kWords[] = {");
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t w = uint32_t(bytes[i]) | uint32_t(bytes[i + 1]) << 8 | uint32_t(bytes[i + 2]) << 16 |
                 uint32_t(bytes[i + 3]) << 24;
    if (i != 0) std::fputc(',', out);
    std::fputs(i % 32 == 0 ? "\n  " : " ", out);
    std::fprintf(out, "0x%08xu", w);
  }
  std::fprintf(out, "};\n}  // namespace\n");
  std::fprintf(out,
               "namespace vkmind::shaders {\nextern const ShaderBlob %s_spv{\"%s\", kWords, "
               "sizeof(kWords) / 4};\n}  // namespace vkmind::shaders\n",
               argv[1], argv[1]);
  return std::fclose(out) == 0 ? 0 : 1;
}
