// Build-time tool: turns one .spv file into a C++ source that defines the
// words as a constant array and registers them under the shader's name, so
// the vkmind library carries its kernels and needs no files at run time.
// Trailing values: the specialization constants the blob was frozen with.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: embed_spirv NAME SYMBOL INPUT.spv OUTPUT.cpp [SPECIALIZATION VALUES...]\n");
    return 2;
  }
  const char* name = argv[1];
  const char* symbol = argv[2];
  const char* input = argv[3];
  std::ifstream in(input, std::ios::binary);
  std::vector<unsigned char> bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in.good() && !in.eof()) return 1;
  if (bytes.empty() || bytes.size() % 4 != 0) {
    std::fprintf(stderr, "embed_spirv: %s is not SPIR-V (size %zu)\n", input, bytes.size());
    return 1;
  }
  std::FILE* out = std::fopen(argv[4], "w");
  if (!out) return 1;
  std::fprintf(out, "// Generated from %s by embed_spirv. Do not edit.\n", input);
  std::fprintf(out, "#include \"runtime/vk/shader_registry.h\"\n");
  std::fprintf(out, "namespace {\nconst uint32_t kWords[] = {");
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t w = uint32_t(bytes[i]) | uint32_t(bytes[i + 1]) << 8 | uint32_t(bytes[i + 2]) << 16 |
                 uint32_t(bytes[i + 3]) << 24;
    if (i != 0) std::fputc(',', out);
    std::fputs(i % 32 == 0 ? "\n  " : " ", out);
    std::fprintf(out, "0x%08xu", w);
  }
  std::fprintf(out, "};\n");
  const int n_spec = argc - 5;
  if (n_spec > 0) {
    std::fprintf(out, "const uint32_t kSpec[] = {");
    for (int i = 0; i < n_spec; ++i) std::fprintf(out, "%s%su", i ? ", " : "", argv[5 + i]);
    std::fprintf(out, "};\n");
  }
  std::fprintf(out, "}  // namespace\n");
  std::fprintf(out,
               "namespace vkmind::shaders {\nextern const ShaderBlob %s_spv{\"%s\", kWords, "
               "sizeof(kWords) / 4, %s, %d};\n}  // namespace vkmind::shaders\n",
               symbol, name, n_spec > 0 ? "kSpec" : "nullptr", n_spec);
  return std::fclose(out) == 0 ? 0 : 1;
}
