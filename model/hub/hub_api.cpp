#include "model/hub/hub_api.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <thread>

#include "model/hub/hub_error.h"

namespace vkmind::hub {

namespace {

constexpr int kMaxRedirects = 10;

std::string unquote_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return etag;
}

uint64_t parse_size(const std::string& text) {
  if (text.empty()) return 0;
  return std::strtoull(text.c_str(), nullptr, 10);
}

// The Hub explains its refusals in X-Error-Message (or a JSON body's "error").
std::string hub_explanation(const HttpResponse& response) {
  if (std::string message = response.header("x-error-message"); !message.empty()) return message;
  try {
    const auto body = nlohmann::json::parse(response.body);
    if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"];
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

}  // namespace

std::vector<std::string> HubApi::headers_for(const std::string& url) const {
  std::vector<std::string> headers;
  if (!config_.token.empty() && url_origin(url) == url_origin(config_.endpoint)) {
    headers.push_back("Authorization: Bearer " + config_.token);
  }
  return headers;
}

HttpRequest HubApi::request(const std::string& url) const {
  HttpRequest r;
  r.url = url;
  r.headers = headers_for(url);
  r.connect_timeout_s = long(config_.connect_timeout.count());
  r.stall_timeout_s = long(config_.stall_timeout.count());
  return r;
}

void HubApi::with_retries(const std::string& what, const std::function<void()>& attempt) const {
  auto wait = config_.retry_wait;
  for (int tries = 1;; ++tries) {
    try {
      attempt();
      return;
    } catch (const TransientError& e) {
      if (tries > config_.retries) {
        throw HubError(what + ": failed " + std::to_string(tries) + " times, giving up: " + e.what());
      }
      std::fprintf(stderr, "vkmind: %s; retrying in %.1f s (%d of %d)\n", e.what(), double(wait.count()) / 1000.0,
                   tries, config_.retries);
      std::this_thread::sleep_for(wait);
      wait *= 2;
    }
  }
}

void HubApi::check_status(const HttpResponse& response, const std::string& url, const std::string& repo,
                          const std::string& file) const {
  const long status = response.status;
  if (status >= 200 && status < 400) return;
  const std::string code = response.header("x-error-code");
  std::string explanation = hub_explanation(response);
  const std::string said = explanation.empty() ? "" : " (the Hub says: " + explanation + ")";
  const std::string where = url + ": HTTP " + std::to_string(status);
  const std::string page = config_.endpoint + "/" + repo;
  if (status == 401) {
    // The Hub answers 401 for a missing repository too, so as not to reveal private ones.
    throw HubError(where + ": " + repo + " does not exist, or it is private or gated: " +
                   (config_.token.empty() ? "set HF_TOKEN to a token that can read it"
                                          : "the token in HF_TOKEN cannot read it") +
                   said);
  }
  if (status == 403) {
    throw HubError(where + ": access to " + repo + " is restricted (a gated or private repository): request access on " +
                   page + " and set HF_TOKEN to a token of that account" + said);
  }
  if (status == 404) {
    if (code == "EntryNotFound" || (!file.empty() && code != "RepoNotFound" && code != "RevisionNotFound")) {
      throw HubError(where + ": " + repo + " has no file " + file + said);
    }
    if (code == "RevisionNotFound") throw HubError(where + ": " + repo + " has no such revision" + said);
    throw HubError(where + ": no repository " + repo + " on " + config_.endpoint + said);
  }
  if (status == 429 || status >= 500) throw TransientError(where + said);
  throw HubError(where + said);
}

RepoListing HubApi::list_repo(const std::string& repo) const {
  const std::string url = config_.endpoint + "/api/models/" + repo;
  HttpResponse response;
  with_retries("listing " + repo, [&] {
    response = http_request(request(url));
    check_status(response, url, repo);
  });
  RepoListing listing;
  try {
    const auto json = nlohmann::json::parse(response.body);
    listing.commit = json.at("sha").get<std::string>();
    for (const auto& sibling : json.at("siblings")) listing.files.push_back(sibling.at("rfilename").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw HubError(url + ": not a Hub model listing (sha and siblings[].rfilename expected): " + e.what());
  }
  if (listing.commit.empty()) throw HubError(url + ": the listing names no commit (sha)");
  return listing;
}

FileMetadata HubApi::file_metadata(const std::string& repo, const std::string& revision, const std::string& file) const {
  const std::string resolve_url = config_.endpoint + "/" + repo + "/resolve/" + revision + "/" + encode_path(file);
  FileMetadata meta;
  meta.file = file;
  with_retries("asking for " + resolve_url, [&] {
    std::string url = resolve_url;
    HttpResponse response;
    // Redirects within the Hub (a renamed repository) are followed; the one to
    // another host (the CDN) is where the metadata is, so it ends the walk.
    for (int hops = 0;; ++hops) {
      HttpRequest head = request(url);
      head.head = true;
      response = http_request(head);
      check_status(response, url, repo, file);
      const std::string location = response.header("location");
      if (response.status < 300 || location.empty()) break;
      const std::string next = resolve_location(url, location);
      if (url_origin(next) != url_origin(url) || hops >= kMaxRedirects) {
        meta.download_url = next;
        break;
      }
      url = next;
    }
    if (meta.download_url.empty()) meta.download_url = url;
    meta.commit = response.header("x-repo-commit");
    const std::string linked = response.header("x-linked-etag");
    meta.lfs = !linked.empty();
    meta.etag = unquote_etag(meta.lfs ? linked : response.header("etag"));
    meta.size = parse_size(meta.lfs ? response.header("x-linked-size") : response.header("content-length"));
    if (meta.lfs && meta.size == 0) meta.size = parse_size(response.header("content-length"));
    if (meta.etag.empty()) throw HubError(url + ": the Hub gave no ETag for " + file + ", so it cannot be cached");
    if (meta.etag.find('/') != std::string::npos) throw HubError(url + ": unusable ETag '" + meta.etag + "'");
  });
  return meta;
}

}  // namespace vkmind::hub
