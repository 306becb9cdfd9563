// `vkmind serve` over real sockets: the OpenAI routes with cpp-httplib's
// client and curl, streaming, reproducible seeds, output identical to
// `vkmind run`, auth, the queue bound, malformed requests, clients that leave
// mid-stream, and a graceful SIGTERM. Greedy outputs are compared exactly:
// the server runs the same engine as the CLI.
#include <atomic>
#include <cmath>
#include <csignal>
#include <mutex>
#include <set>

#include "tests/server/server_fixture.h"
#include "tests/shared_data.h"

using namespace vkmind::test;

namespace {

json completion(const std::string& prompt, int max_tokens) {
  return {{"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}};
}

std::string curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/curl", "-sS", "--max-time", "60"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  INFO("curl stderr: " << r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

}  // namespace

TEST_CASE("serve: health, models, completions and chat, whole and streamed", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--parallel", "4"});
  auto c = server.client();
  auto health = c->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto models = c->Get("/v1/models");
  REQUIRE(models);
  CHECK(json::parse(models->body)["data"][0]["id"] == "model.gguf");

  auto r = post_json(*c, "/v1/completions", completion("Hello", 12));
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json whole = json::parse(r->body);
  CHECK(whole["object"] == "text_completion");
  CHECK(whole["choices"][0]["finish_reason"] == "length");
  CHECK(whole["usage"]["completion_tokens"] == 12);
  CHECK(whole["usage"]["total_tokens"] == whole["usage"]["prompt_tokens"].get<int>() + 12);
  CHECK(whole["usage"]["prompt_tokens_details"].contains("cached_tokens"));

  // The same request streamed (through curl) gives the same text, then usage, then [DONE].
  json streamed = completion("Hello", 12);
  streamed["stream"] = true;
  streamed["stream_options"] = {{"include_usage", true}};
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  const StreamText s = parse_stream(
      curl({"-N", "-H", "Content-Type: application/json", "-d", streamed.dump(), url + "/v1/completions"}), false);
  CHECK(s.done);
  CHECK(s.text == whole["choices"][0]["text"].get<std::string>());
  REQUIRE(!s.chunks.empty());
  CHECK(s.chunks.back()["usage"]["completion_tokens"] == 12);

  json chat = {{"messages", {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}}},
               {"max_tokens", 8},
               {"temperature", 0}};
  auto cr = post_json(*c, "/v1/chat/completions", chat);
  REQUIRE(cr);
  REQUIRE(cr->status == 200);
  const json cw = json::parse(cr->body);
  CHECK(cw["object"] == "chat.completion");
  CHECK(cw["choices"][0]["message"]["role"] == "assistant");
  chat["stream"] = true;
  auto cs = post_json(*c, "/v1/chat/completions", chat);
  REQUIRE(cs);
  const StreamText chat_stream = parse_stream(cs->body, true);
  CHECK(chat_stream.done);
  CHECK(chat_stream.chunks.front()["choices"][0]["delta"]["role"] == "assistant");
  CHECK(chat_stream.text == cw["choices"][0]["message"]["content"].get<std::string>());
  // The second identical chat found its prompt's full blocks in the prefix cache.
  CHECK(server.metric("vkmind_prefix_cache_hit_rate") > 0);

  // n choices share the prompt's KV blocks (the 2nd and 3rd take the first's 2 full
  // blocks from the prefix cache); seeded sampling repeats, another seed differs.
  const double cached_before = server.metric("vkmind_cached_prompt_tokens_total");
  const std::string long_prompt = "Hello there, this prompt is long enough to fill two KV blocks of tokens";
  json sampled = {{"prompt", long_prompt}, {"max_tokens", 16}, {"temperature", 1.0}, {"seed", 7}, {"n", 3}};
  auto a = post_json(*c, "/v1/completions", sampled);
  auto b = post_json(*c, "/v1/completions", sampled);
  REQUIRE(a);
  REQUIRE(b);
  const json ja = json::parse(a->body), jb = json::parse(b->body);
  REQUIRE(ja["choices"].size() == 3);
  CHECK(ja["choices"] == jb["choices"]);
  CHECK(ja["usage"]["prompt_tokens"].get<int>() > 32);
  CHECK(server.metric("vkmind_cached_prompt_tokens_total") - cached_before >= 2 * 32);
  CHECK(ja["usage"]["completion_tokens"] == 48);
  sampled["seed"] = 8;
  auto other = post_json(*c, "/v1/completions", sampled);
  REQUIRE(other);
  CHECK(json::parse(other->body)["choices"] != ja["choices"]);
}

TEST_CASE("serve: greedy output is what vkmind run prints for the same prompt", "[server]") {
  const std::string stories = shared_file("models/stories260K/stories260K.gguf");
  for (const std::string& model : {tiny_gguf(), stories}) {
    if (model.empty()) continue;
    DYNAMIC_SECTION(model) {
      const std::string prompt = "Once upon a time";
      auto run = run_cli({"run", "-m", model, "-p", prompt, "-n", "24", "--temp", "0", "-q"});
      REQUIRE(run.status == 0);
      ServerProcess server({"-m", model});
      auto r = post_json(*server.client(), "/v1/completions", completion(prompt, 24));
      REQUIRE(r);
      REQUIRE(r->status == 200);
      const std::string text = json::parse(r->body)["choices"][0]["text"];
      // run prints the prompt, then the generation, then a newline.
      CHECK(run.out.find(prompt + text) == 0);
    }
  }
}

TEST_CASE("serve: 32 streaming clients at once each get their output alone", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--parallel", "16"});
  constexpr int kClients = 32;
  auto prompt = [](int i) { return "Story " + std::to_string(i) + ":" + std::string(size_t(i % 7), '!'); };
  std::vector<std::string> alone(kClients), together(kClients);
  for (int i = 0; i < kClients; ++i) {
    auto r = post_json(*server.client(), "/v1/completions", completion(prompt(i), 10 + i % 5));
    REQUIRE(r);
    alone[i] = json::parse(r->body)["choices"][0]["text"];
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::mutex problems_mutex;
  std::vector<std::string> problems;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      json body = completion(prompt(i), 10 + i % 5);
      body["stream"] = true;
      std::string text;
      auto r = stream_post(*server.client(), "/v1/completions", body, [&](const char* data, size_t n) {
        text.append(data, n);
        return true;
      });
      if (!r || r->status != 200) {
        ++failures;
        std::lock_guard lock(problems_mutex);
        problems.push_back("client " + std::to_string(i) + ": " +
                           (r ? std::to_string(r->status) : httplib::to_string(r.error())) + " after: " + text);
        return;
      }
      const StreamText s = parse_stream(text, false);
      if (!s.done) ++failures;
      together[i] = s.text;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& p : problems) UNSCOPED_INFO(p);
  if (failures) UNSCOPED_INFO(server.log());
  CHECK(failures == 0);
  for (int i = 0; i < kClients; ++i) {
    INFO("client " << i);
    CHECK(together[i] == alone[i]);
  }
  CHECK(server.metric("vkmind_kv_blocks_used") == 0);
}

TEST_CASE("serve: a client that leaves mid-stream cancels its request and frees its blocks", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--parallel", "2"});
  json body = {{"prompt", "Hello"}, {"max_tokens", 1500}, {"ignore_eos", true}, {"stream", true}};
  {
    auto c = server.client();
    int chunks = 0;
    stream_post(*c, "/v1/completions", body, [&](const char*, size_t) { return ++chunks < 3; });  // then hang up
    CHECK(chunks == 3);
  }
  // The engine notices at its next token and frees the blocks.
  double used = 1;
  for (int i = 0; i < 200 && used != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    used = server.metric("vkmind_kv_blocks_used");
  }
  CHECK(used == 0);
  CHECK(server.metric("vkmind_requests_running") == 0);
  CHECK(server.metric("vkmind_generation_tokens_total") < 1500);
  auto next = post_json(*server.client(), "/v1/completions", completion("Hi", 4));
  REQUIRE(next);
  CHECK(next->status == 200);
}

TEST_CASE("serve: an API key guards /v1, compared whole", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--api-key", "sekret"});
  auto c = server.client();
  auto none = post_json(*c, "/v1/completions", completion("Hi", 2));
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(json::parse(none->body)["error"]["code"] == "invalid_api_key");
  for (const char* key : {"Bearer sekre", "Bearer sekret2", "Bearer SEKRET", "sekret", "Bearer "}) {
    INFO(key);
    auto bad = post_json(*c, "/v1/completions", completion("Hi", 2), {{"Authorization", key}});
    REQUIRE(bad);
    CHECK(bad->status == 401);
  }
  auto good = post_json(*c, "/v1/completions", completion("Hi", 2), {{"Authorization", "Bearer sekret"}});
  REQUIRE(good);
  CHECK(good->status == 200);
  auto models = c->Get("/v1/models");
  REQUIRE(models);
  CHECK(models->status == 401);
  auto health = c->Get("/health");  // for load balancers: open
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("serve: past --parallel plus --max-queue requests get 429 with Retry-After", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--parallel", "1", "--max-queue", "0"});
  std::atomic<bool> streaming{false};
  std::thread holder([&] {
    const json body = {{"prompt", "Hello"}, {"max_tokens", 400}, {"ignore_eos", true}, {"stream", true}};
    stream_post(*server.client(), "/v1/completions", body, [&](const char*, size_t) {
      streaming = true;
      return true;
    });
  });
  while (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto busy = post_json(*server.client(), "/v1/completions", completion("Hi", 2));
  REQUIRE(busy);
  CHECK(busy->status == 429);
  CHECK(busy->get_header_value("Retry-After") == "1");
  CHECK(json::parse(busy->body)["error"]["type"] == "rate_limit_error");
  holder.join();
  auto after = post_json(*server.client(), "/v1/completions", completion("Hi", 2));
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("serve: malformed requests each get the right 4xx and the server stays up", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--max-body", "65536", "-c", "256"});
  auto c = server.client();
  struct Case {
    std::string path, body;
    int status;
    std::string param;  // the field the error names ("" = any)
  };
  const std::string C = "/v1/completions", CH = "/v1/chat/completions";
  const std::string msgs = R"("messages":[{"role":"user","content":"Hi"}])";
  const std::vector<Case> cases = {
      {C, "{", 400, ""},
      {C, "not json", 400, ""},
      {C, "[1,2]", 400, ""},
      {C, "{}", 400, "prompt"},
      {C, R"({"prompt": 5})", 400, "prompt"},
      {C, R"({"prompt": []})", 400, "prompt"},
      {C, R"({"prompt": ["a", "b"]})", 400, "prompt"},
      {C, R"({"prompt": [1, -2]})", 400, "prompt"},
      {C, R"({"prompt": [1, 100000]})", 400, "prompt"},
      {C, R"({"prompt": "Hi", "max_tokens": -1})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "max_tokens": "ten"})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "max_tokens": 1.5})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "max_tokens": 1e300})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "max_tokens": 99999999999999999999})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "max_tokens": 100000})", 400, "max_tokens"},
      {C, R"({"prompt": "Hi", "temperature": "hot"})", 400, "temperature"},
      {C, R"({"prompt": "Hi", "temperature": -1})", 400, "temperature"},
      {C, R"({"prompt": "Hi", "temperature": 3})", 400, "temperature"},
      {C, R"({"prompt": "Hi", "top_p": 2})", 400, "top_p"},
      {C, R"({"prompt": "Hi", "top_k": "all"})", 400, "top_k"},
      {C, R"({"prompt": "Hi", "min_p": -0.5})", 400, "min_p"},
      {C, R"({"prompt": "Hi", "presence_penalty": 9})", 400, "presence_penalty"},
      {C, R"({"prompt": "Hi", "frequency_penalty": true})", 400, "frequency_penalty"},
      {C, R"({"prompt": "Hi", "seed": "x"})", 400, "seed"},
      {C, R"({"prompt": "Hi", "stop": 5})", 400, "stop"},
      {C, R"({"prompt": "Hi", "stop": ["a", 1]})", 400, "stop"},
      {C, R"({"prompt": "Hi", "n": 0})", 400, "n"},
      {C, R"({"prompt": "Hi", "n": 1000})", 400, "n"},
      {C, R"({"prompt": "Hi", "stream": "yes"})", 400, "stream"},
      {C, R"({"prompt": "Hi", "stream_options": 3})", 400, "stream_options"},
      {C, R"({"prompt": "Hi", "model": "gpt-4"})", 404, "model"},
      {C, R"({"prompt": "Hi", "model": 4})", 400, "model"},
      {C, "{\"prompt\": \"\xff\xfe\"}", 400, ""},  // invalid UTF-8
      {C, R"({"prompt": ")" + std::string(2000, 'x') + R"("})", 400, "prompt"},  // longer than the context
      {CH, "{}", 400, "messages"},
      {CH, R"({"messages": []})", 400, "messages"},
      {CH, R"({"messages": "Hi"})", 400, "messages"},
      {CH, R"({"messages": [{"content": "Hi"}]})", 400, "messages[0].role"},
      {CH, R"({"messages": [{"role": "wizard", "content": "Hi"}]})", 400, "messages[0].role"},
      {CH, R"({"messages": [{"role": "user", "content": 5}]})", 400, "messages[0].content"},
      {CH, R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", 400, "messages[0].content"},
      {CH, "{" + msgs + R"(, "logprobs": "yes"})", 400, "logprobs"},
      {CH, "{" + msgs + R"(, "top_logprobs": 3})", 400, "top_logprobs"},
      {CH, "{" + msgs + R"(, "logprobs": true, "top_logprobs": 21})", 400, "top_logprobs"},
      {C, R"({"prompt": "Hi", "logprobs": true})", 400, "logprobs"},
      {CH, "{" + msgs + R"(, "max_completion_tokens": -5})", 400, "max_completion_tokens"},
      {C, "{\"prompt\": \"" + std::string(70000, 'x') + "\"}", 413, ""},  // over --max-body
      {"/v1/nothing", "{}", 404, ""},
  };
  REQUIRE(cases.size() >= 30);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& k = cases[i];
    INFO("case " << i << ": " << k.path << " " << k.body.substr(0, 120));
    auto r = c->Post(k.path.c_str(), k.body, "application/json");
    REQUIRE(r);
    CHECK(r->status == k.status);
    INFO("body: " << r->body);
    const json e = json::parse(r->body, nullptr, false);
    REQUIRE(e.is_object());
    REQUIRE(e.contains("error"));
    CHECK(e["error"]["message"].is_string());
    CHECK(e["error"].contains("type"));
    if (!k.param.empty()) CHECK(e["error"]["param"] == k.param);
  }
  // Unknown fields are ignored; "user" too.
  auto ok = c->Post("/v1/completions", R"({"prompt": "Hi", "max_tokens": 2, "user": "u1", "frobnicate": [1]})",
                    "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(server.metric("vkmind_kv_blocks_used") == 0);
}

TEST_CASE("serve: SIGTERM lets a running stream finish, then exits 0", "[server]") {
  ServerProcess server({"-m", tiny_gguf(), "--grace", "30"});
  std::atomic<bool> streaming{false};
  StreamText got;
  std::thread client([&] {
    const json request = {{"prompt", "Hello"}, {"max_tokens", 600}, {"ignore_eos", true}, {"stream", true}};
    std::string body;
    stream_post(*server.client(), "/v1/completions", request, [&](const char* data, size_t n) {
      body.append(data, n);
      streaming = true;
      return true;
    });
    got = parse_stream(body, false);
  });
  while (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread stopper([&] { kill(server.pid(), SIGTERM); });
  // While the stream finishes, load balancers see the server going: /health 503.
  int health = 200;
  for (int i = 0; i < 200 && health == 200; ++i) {
    auto h = server.client()->Get("/health");
    health = h ? h->status : 0;
    if (health == 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(health == 503);
  auto refused = post_json(*server.client(), "/v1/completions", completion("Hi", 2));
  CHECK((!refused || refused->status == 503));
  stopper.join();
  const ProcessResult r = server.stop(SIGTERM);  // a second SIGTERM changes nothing
  client.join();
  CHECK(r.status == 0);
  CHECK(got.done);
  REQUIRE(!got.chunks.empty());
  CHECK(got.chunks.back()["choices"][0]["finish_reason"] == "length");
}

TEST_CASE("serve: a soak of 1000 mixed requests loses none and returns memory and KV to where they were",
          "[server][soak]") {
  ServerProcess server({"-m", tiny_gguf(), "--parallel", "16"});
  std::atomic<int> next{0}, ok{0}, cancelled{0}, lost{0};
  std::mutex problems_mutex;
  std::vector<std::string> problems;
  auto worker = [&](int until) {
    auto c = server.client();
    while (true) {
      int i = next.load();
      do {
        if (i >= until) return;
      } while (!next.compare_exchange_weak(i, i + 1));
      json body = {{"prompt", "Request " + std::to_string(i)}, {"max_tokens", 4 + i % 9}, {"temperature", 0.7},
                   {"seed", i}};
      const int kind = i % 3;  // whole, streamed, streamed and dropped
      if (kind == 0) {
        auto r = post_json(*c, "/v1/completions", body);
        if (r && r->status == 200 && json::parse(r->body)["choices"].size() == 1) {
          ++ok;
        } else {
          ++lost;
          std::lock_guard lock(problems_mutex);
          problems.push_back("request " + std::to_string(i) + ": " + (r ? std::to_string(r->status) + " " + r->body
                                                                          : httplib::to_string(r.error())));
        }
        continue;
      }
      body["stream"] = true;
      body["max_tokens"] = kind == 2 ? 200 : 4 + i % 9;
      std::string text;
      int chunks = 0;
      auto r = stream_post(*c, "/v1/completions", body, [&](const char* data, size_t n) {
        text.append(data, n);
        return kind != 2 || ++chunks < 2;
      });
      if (kind == 2) {
        ++cancelled;
        c = server.client();  // that connection is gone
      } else {
        if (r && r->status == 200 && text.find("data: [DONE]") != std::string::npos) {
          ++ok;
        } else {
          ++lost;
          std::lock_guard lock(problems_mutex);
          problems.push_back("stream " + std::to_string(i) + ": " + (r ? std::to_string(r->status) + " " + text
                                                                         : httplib::to_string(r.error())));
        }
      }
    }
  };
  auto run_until = [&](int until) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) threads.emplace_back(worker, until);
    for (auto& t : threads) t.join();
  };
  auto settle = [&] {
    for (int i = 0; i < 400 && server.metric("vkmind_kv_blocks_used") != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  };
  run_until(100);
  settle();
  const long rss_100 = server.rss_kib();
  const double used_100 = server.metric("vkmind_kv_blocks_used");
  run_until(1000);
  settle();
  const long rss_1000 = server.rss_kib();
  WARN("soak: resident memory after 100 requests " << rss_100 << " KiB, after 1000 " << rss_1000 << " KiB");
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(lost == 0);
  CHECK(ok + cancelled == 1000);
  CHECK(used_100 == 0);
  CHECK(server.metric("vkmind_kv_blocks_used") == 0);
  CHECK(server.metric("vkmind_requests_running") == 0);
  CHECK(server.metric("vkmind_requests_waiting") == 0);
  // Tolerance: 8 MiB for allocator and thread-pool high-water marks; a leak
  // per request (a kept result, a stream buffer) would grow with 900 requests.
  CHECK(rss_1000 - rss_100 < 8 * 1024);
}

TEST_CASE("serve: a port in use is a clear error, exit 1", "[server]") {
  ServerProcess first({"-m", tiny_gguf()});
  auto second = run_cli({"serve", "-m", tiny_gguf(), "--port", std::to_string(first.port())});
  CHECK(second.status == 1);
  CHECK(second.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
}

TEST_CASE("serve: logprobs of each token and its top alternatives, whole and streamed", "[server]") {
  ServerProcess server({"-m", tiny_gguf()});
  auto c = server.client();
  json chat = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}}, {"max_tokens", 6}, {"temperature", 0},
               {"logprobs", true}, {"top_logprobs", 3}};
  auto r = post_json(*c, "/v1/chat/completions", chat);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  const json content = json::parse(r->body)["choices"][0]["logprobs"]["content"];
  REQUIRE(content.size() == 6);
  for (const json& t : content) {
    INFO(t.dump());
    REQUIRE(t["top_logprobs"].size() == 3);
    // Greedy: the chosen token is the most likely one.
    CHECK(t["logprob"].get<double>() == t["top_logprobs"][0]["logprob"].get<double>());
    CHECK(t["logprob"].get<double>() <= 0);
    double mass = 0, previous = 0;
    for (size_t k = 0; k < 3; ++k) {
      const double lp = t["top_logprobs"][k]["logprob"];
      if (k > 0) CHECK(lp <= previous);
      previous = lp;
      mass += std::exp(lp);
    }
    CHECK(mass <= 1.0 + 1e-5);
    // The raw bytes; the text has U+FFFD where a token holds part of a UTF-8 character.
    CHECK(!t["bytes"].empty());
  }
  // Legacy completions, streamed: every token's chunk carries its logprobs.
  json body = {{"prompt", "Hello"}, {"max_tokens", 5}, {"temperature", 0}, {"logprobs", 2}, {"stream", true}};
  auto s = post_json(*c, "/v1/completions", body);
  REQUIRE(s);
  const StreamText st = parse_stream(s->body, false);
  int with_logprobs = 0;
  for (const json& chunk : st.chunks) {
    const json& lp = chunk["choices"][0]["logprobs"];
    if (lp.is_null()) continue;
    ++with_logprobs;
    CHECK(lp["tokens"].size() == 1);
    CHECK(lp["top_logprobs"][0].size() <= 2);
  }
  CHECK(with_logprobs == 5);
  body["stream"] = false;
  auto w = post_json(*c, "/v1/completions", body);
  REQUIRE(w);
  const json lp = json::parse(w->body)["choices"][0]["logprobs"];
  CHECK(lp["token_logprobs"].size() == 5);
  CHECK(lp["text_offset"][0] == 0);
}
