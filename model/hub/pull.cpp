#include "model/hub/pull.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "model/hub/blob_download.h"
#include "model/hub/file_selection.h"
#include "model/hub/hub_api.h"
#include "model/hub/hub_cache.h"
#include "model/hub/hub_error.h"
#include "model/hub/progress.h"

namespace fs = std::filesystem;

namespace vkmind::hub {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The files `ref` needs out of a listing (remote, or a cached snapshot's), or why none fit.
std::vector<std::string> select_files(const RepoRef& ref, const std::vector<std::string>& listing,
                                      const std::string& where) {
  const std::vector<std::string> quants = gguf_quants(listing);
  if (!ref.quant.empty()) {
    const GgufChoice choice = select_gguf(listing, ref.quant);
    if (choice.files.empty()) {
      if (quants.empty()) {
        throw HubError(ref.repo + where + " has no GGUF files" +
                       (is_loadable_hf_folder(hf_folder_files(listing)) ? "; it is a Hugging Face folder: use hf:" +
                                                                              ref.repo + " without a quant"
                                                                        : ""));
      }
      throw HubError(ref.repo + where + " has no GGUF file for quant " + ref.quant + "; its quants: " + join(quants));
    }
    if (choice.files.size() > 1) {
      throw HubError(ref.display() + " is a GGUF split into " + std::to_string(choice.files.size()) + " files (" +
                     choice.files.front() + ", ...); vkmind loads single-file GGUFs: merge the parts with llama.cpp's "
                     "`llama-gguf-split --merge`, or pick another quant");
    }
    return choice.files;
  }
  std::vector<std::string> files = hf_folder_files(listing);
  if (!is_loadable_hf_folder(files)) {
    if (!quants.empty()) {
      throw HubError(ref.repo + where + " holds GGUF files: name a quant, hf:" + ref.repo + ":QUANT (quants: " +
                     join(quants) + ")");
    }
    throw HubError(ref.repo + where + " has no config.json with .safetensors weights (what vkmind loads) and no GGUF files");
  }
  return files;
}

std::string result_path(const RepoRef& ref, const RepoCache& cache, const std::string& commit,
                        const std::vector<std::string>& files) {
  return ref.quant.empty() ? cache.snapshot(commit).string() : cache.snapshot_file(commit, files.front()).string();
}

// The shards a cached model.safetensors.index.json names must be there too.
std::vector<std::string> missing_shards(const fs::path& snapshot) {
  std::vector<std::string> missing;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(snapshot, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 23 || name.compare(name.size() - 23, 23, ".safetensors.index.json") != 0) continue;
    try {
      std::ifstream in(entry.path());
      const auto index = nlohmann::json::parse(in);
      for (const auto& [tensor, shard] : index.at("weight_map").items()) {
        const std::string file = shard.get<std::string>();
        if (!fs::is_regular_file(snapshot / file, ec) && std::find(missing.begin(), missing.end(), file) == missing.end()) {
          missing.push_back(file);
        }
      }
    } catch (const nlohmann::json::exception&) {
      missing.push_back(name + " (unreadable)");
    }
  }
  return missing;
}

std::string describe_cached(const RepoRef& ref, const HubConfig& config) {
  std::vector<std::string> cached;
  for (const CachedSnapshot& s : list_cached(config.cache_root)) {
    if (s.repo == ref.repo) cached.push_back(s.commit.substr(0, 12) + " (" + join(s.files) + ")");
  }
  if (cached.empty()) return "nothing of " + ref.repo + " is cached in " + config.cache_root;
  return ref.display() + " is not in the cache (cached of " + ref.repo + ": " + join(cached, "; ") + ")";
}

// The pull without the Hub: what refs/main names in the cache.
PullResult from_cache(const RepoRef& ref, const HubConfig& config, const std::string& why) {
  const RepoCache cache(config.cache_root, ref.repo);
  const auto commit = cache.read_ref("main");
  if (!commit || !fs::is_directory(cache.snapshot(*commit))) {
    throw HubError(why + "; " + describe_cached(ref, config));
  }
  std::vector<std::string> listing;
  std::error_code ec;
  const fs::path snapshot = cache.snapshot(*commit);
  for (const auto& f : fs::recursive_directory_iterator(snapshot, ec)) {
    if (f.is_regular_file(ec)) listing.push_back(f.path().lexically_relative(snapshot).string());
  }
  PullResult result;
  result.commit = *commit;
  try {
    result.files = select_files(ref, listing, " in the cache (" + snapshot.string() + ")");
  } catch (const HubError& e) {
    throw HubError(why + ": " + e.what());
  }
  if (ref.quant.empty()) {
    if (const auto missing = missing_shards(snapshot); !missing.empty()) {
      throw HubError(why + ", and the cached " + ref.repo + " lacks " + join(missing) + " (" + snapshot.string() + ")");
    }
  }
  result.path = result_path(ref, cache, *commit, result.files);
  return result;
}

}  // namespace

PullResult pull(const RepoRef& ref, const HubConfig& config) {
  if (config.offline) return from_cache(ref, config, "offline mode (--offline or HF_HUB_OFFLINE)");
  const HubApi api(config);
  RepoListing listing;
  try {
    listing = api.list_repo(ref.repo);
  } catch (const HubUnreachable& e) {
    const std::string why = "cannot reach " + config.endpoint + " (no network?): " + e.what();
    PullResult cached = from_cache(ref, config, why);
    std::fprintf(stderr, "vkmind: %s; using the cached %s (revision %s)\n", why.c_str(), ref.display().c_str(),
                 cached.commit.substr(0, 12).c_str());
    return cached;
  }
  const RepoCache cache(config.cache_root, ref.repo);
  PullResult result;
  result.commit = listing.commit;
  result.files = select_files(ref, listing.files, "");
  for (const std::string& file : result.files) {
    if (cache.has(listing.commit, file)) continue;
    const FileMetadata meta = api.file_metadata(ref.repo, listing.commit, file);
    download_blob(api, cache, ref.repo, meta);
    cache.link(listing.commit, file, meta.etag);
    result.downloaded = true;
  }
  if (cache.read_ref("main") != listing.commit) cache.write_ref(listing.commit, "main");
  result.path = result_path(ref, cache, listing.commit, result.files);
  return result;
}

std::string resolve_model(const std::string& model, const HubConfig& config) {
  if (!is_hub_model(model)) return model;
  std::string why;
  const auto ref = parse_repo_ref(model.substr(std::char_traits<char>::length(kHubPrefix)), &why);
  if (!ref) throw HubError(why);
  return pull(*ref, config).path;
}

}  // namespace vkmind::hub
