#include "model/jinja/globals.h"

#include <ctime>

#include "model/jinja/error.h"
#include "model/jinja/python_text.h"

namespace vkmind::jinja {

namespace {

Value range_function(const CallArgs& a) {
  if (!a.keywords.empty() || a.positional.empty() || a.positional.size() > 3) throw TemplateError("range() takes 1 to 3 integers");
  for (const Value& v : a.positional) {
    if (!v.is_int() && !v.is_bool()) throw TemplateError("range(): '" + type_name(v) + "' object cannot be interpreted as an integer");
  }
  int64_t start = 0, stop = 0, step = 1;
  if (a.positional.size() == 1) {
    stop = a.positional[0].as_int();
  } else {
    start = a.positional[0].as_int();
    stop = a.positional[1].as_int();
    if (a.positional.size() == 3) step = a.positional[2].as_int();
  }
  if (step == 0) throw TemplateError("range() arg 3 must not be zero");
  std::vector<Value> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
    if (out.size() >= 100000) throw TemplateError("range too big (the sandbox allows 100000 items)");
    out.emplace_back(i);
  }
  return Value::list(std::move(out));
}

std::shared_ptr<Dict> keywords_dict(const CallArgs& a, const char* function) {
  auto d = std::make_shared<Dict>();
  for (const Value& v : a.positional) {
    if (!v.is_mapping()) throw TemplateError(std::string(function) + "() takes keyword arguments or a dict");
    for (const auto& [k, item] : v.entries().entries) d->set(k, item);
  }
  for (const auto& [k, v] : a.keywords) d->set(k, v);
  return d;
}

Value strftime_now(const CallArgs& a) {
  const Value* fmt = a.get(0, "format");
  if (!fmt || !fmt->is_string()) throw TemplateError("strftime_now() needs a format string");
  std::tm tm{};
  tm.tm_year = kFixedYear - 1900;
  tm.tm_mon = kFixedMonth - 1;
  tm.tm_mday = kFixedDay;
  tm.tm_isdst = -1;
  std::time_t t = timegm(&tm);  // fills tm_wday / tm_yday
  gmtime_r(&t, &tm);
  char buf[512];
  const size_t n = std::strftime(buf, sizeof buf, fmt->as_string().c_str(), &tm);
  return Value(std::string(buf, n));
}

}  // namespace

std::shared_ptr<Scope> make_globals() {
  auto g = std::make_shared<Scope>();
  g->vars["raise_exception"] = Value::callable("raise_exception", [](const CallArgs& a) -> Value {
    const Value* msg = a.get(0, "message");
    throw TemplateError("the template raised an exception: " + (msg ? python_str(*msg) : std::string()));
  });
  g->vars["range"] = Value::callable("range", range_function);
  g->vars["dict"] = Value::callable("dict", [](const CallArgs& a) { return Value::dict(keywords_dict(a, "dict")); });
  g->vars["namespace"] = Value::callable("namespace", [](const CallArgs& a) { return Value::make_namespace(keywords_dict(a, "namespace")); });
  g->vars["strftime_now"] = Value::callable("strftime_now", strftime_now);
  return g;
}

}  // namespace vkmind::jinja
