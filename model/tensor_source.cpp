#include "model/tensor_source.h"

#include <filesystem>

#include "model/hf_to_gguf.h"

namespace vkmind {

namespace {

class GgufSource final : public TensorSource {
 public:
  explicit GgufSource(const std::string& path) : file_(gguf::File::open(path)) {
    for (const auto& t : file_->tensors()) {
      tensors_.push_back({t.name, t.dims, t.type_code, t.n_elements, file_->tensor_data(t)});
    }
  }
  const std::string& path() const override { return file_->path(); }
  const std::map<std::string, gguf::Value>& metadata() const override { return file_->metadata(); }
  const std::vector<SourceTensor>& tensors() const override { return tensors_; }

 private:
  std::unique_ptr<gguf::File> file_;
  std::vector<SourceTensor> tensors_;
};

}  // namespace

std::unique_ptr<TensorSource> open_tensor_source(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return convert_hf_folder(path);
  return std::make_unique<GgufSource>(path);
}

}  // namespace vkmind
