// `vkmind info`: every Vulkan device with its feature report, the selected
// one marked; with -m, a report on a model file instead.
#include <cstdio>
#include <iostream>
#include <memory>

#include "runtime/vk/device.h"
#include "runtime/vk/instance.h"
#include "tools/commands.h"
#include "tools/model_source.h"

namespace vkmind::cli {

namespace {

struct InfoOptions {
  std::string device;
  std::string model;
  bool offline = false;
};

void run_info(const InfoOptions& opts) {
  if (!opts.model.empty()) {
    print_model_report(resolve_model_source(opts.model, opts.offline));
    return;
  }
  vk::Instance instance(vk::InstanceOptions{});
  // An unknown device reaches main() as NoSuchDevice: the list, status 2.
  const VkPhysicalDevice selected = vk::select_physical_device(instance, opts.device);
  auto devices = instance.physical_devices();
  for (size_t i = 0; i < devices.size(); ++i) {
    vk::DeviceReport report = vk::query_device_report(devices[i]);
    std::cout << "device " << i << ": " << report.name << (devices[i] == selected ? "  [selected]" : "") << "\n";
    std::cout << vk::format_device_report(report, "  ");
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show Vulkan devices and their features, or describe a model (-m)");
  cmd->add_option("--device,-d", opts->device, "Device index or name substring (default: $VKMIND_DEVICE, else the best GPU)");
  cmd->add_option("--model,-m", opts->model, "A model file (.gguf), Hugging Face folder or hf:ORG/REPO[:QUANT] to describe")
      ->check(model_path_or_hub());
  add_offline_flag(*cmd, opts->offline);
  cmd->callback([opts] { run_info(*opts); });
}

}  // namespace vkmind::cli
