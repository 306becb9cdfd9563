#include "model/jinja/template.h"

#include "model/jinja/globals.h"
#include "model/jinja/interpreter.h"
#include "model/jinja/name_check.h"
#include "model/jinja/parser.h"

namespace vkmind::jinja {

Template::Template(std::string_view source) : body_(std::make_shared<Body>(parse_template(source))) {
  check_filter_and_test_names(*body_);
}

std::string Template::render(const Dict& variables) const {
  auto scope = std::make_shared<Scope>();
  scope->parent = make_globals();
  for (const auto& [k, v] : variables.entries) scope->vars[k] = v;
  return render_body(*body_, scope);
}

Value from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: return Value(static_cast<int64_t>(j.get<uint64_t>()));
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      for (const auto& item : j) items.push_back(from_json(item));
      return Value::list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto d = std::make_shared<Dict>();
      for (const auto& [k, v] : j.items()) d->set(k, from_json(v));
      return Value::dict(d);
    }
    default: throw TemplateError("unsupported JSON value (binary)");
  }
}

}  // namespace vkmind::jinja
