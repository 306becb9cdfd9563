// The engine thread behind Engine::submit: takes requests from any thread,
// batches them with the scheduler, steps the model runner, samples each
// request with its own sampler, applies its stop conditions and reports
// updates. It sleeps while there is no work. The runner is shared with the
// single-request calls, which hold `runner_mutex` while they run.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "include/vkmind/engine.h"
#include "runtime/scheduler/scheduler.h"

namespace vkmind {

class ModelRunner;
namespace tok {
class Tokenizer;
}

class RequestLoop {
 public:
  // `is_end`: a token that ends a reply (EOS, <|im_end|>, ...).
  RequestLoop(ModelRunner& runner, const tok::Tokenizer& tokenizer, std::mutex& runner_mutex,
              const SchedulerOptions& options, std::function<bool(int32_t)> is_end);
  ~RequestLoop();  // requests still running end "cancelled"
  RequestLoop(const RequestLoop&) = delete;
  RequestLoop& operator=(const RequestLoop&) = delete;

  RequestId submit(std::vector<int32_t> prompt, const GenerateOptions& options, RequestCallback on_update);
  // A request refused before it was queued (tokenizer or template problems).
  RequestId refuse(const std::string& error);
  void cancel(RequestId id);
  RequestResult wait(RequestId id);

 private:
  struct Live;
  void run();
  void admit(std::vector<std::unique_ptr<Live>>& incoming, const std::vector<RequestId>& cancels);
  void finish(Live& r, const std::string& reason);
  // Whether r's next token can be drawn from the device's best logits alone.
  bool samples_from_top(const Live& r) const;
  // logits: r's row; top: which Logits::Top entry of the step r's is, if one.
  void on_sample(Live& r, std::span<const float> logits, std::optional<uint32_t> top);

  ModelRunner& runner_;
  const tok::Tokenizer& tokenizer_;
  std::mutex& runner_mutex_;
  std::function<bool(int32_t)> is_end_;
  // The engine thread's alone:
  Scheduler scheduler_;
  std::map<RequestId, std::unique_ptr<Live>> live_;  // queued or running

  std::mutex mutex_;  // guards everything below
  std::condition_variable wake_, done_;
  RequestId next_id_ = 1;
  std::vector<std::unique_ptr<Live>> incoming_;
  std::vector<RequestId> cancels_;
  std::map<RequestId, RequestResult> finished_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vkmind
