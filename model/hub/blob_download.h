// Brings one file of a repository into the cache: blobs/ETAG written through
// blobs/ETAG.incomplete (resumed with a Range request when a previous try was
// cut), the sha256 of LFS files checked, then renamed into place.
#pragma once

#include "model/hub/hub_api.h"
#include "model/hub/hub_cache.h"

namespace vkmind::hub {

// Downloads meta.file into cache.blob(meta.etag) unless it is there already.
void download_blob(const HubApi& api, const RepoCache& cache, const std::string& repo, const FileMetadata& meta);

}  // namespace vkmind::hub
