#include "onnx/functions.h"

#include <onnx/defs/schema.h>

#include <map>
#include <set>

namespace idem {

Result<std::vector<onnx::NodeProto>> InlineFunctionBody(const onnx::NodeProto& call, const onnx::FunctionProto& fn,
                                                       const onnx::OpSchema* schema, const std::string& prefix) {
  std::map<std::string, std::string> rename;
  for (int i = 0; i < fn.input_size(); ++i)
    rename[fn.input(i)] = i < call.input_size() ? call.input(i) : std::string();
  for (int i = 0; i < fn.output_size(); ++i) {
    const std::string actual = i < call.output_size() ? call.output(i) : std::string();
    rename[fn.output(i)] = actual.empty() ? prefix + fn.output(i) : actual;
  }
  std::map<std::string, const onnx::AttributeProto*> call_attrs;
  for (const auto& a : call.attribute()) call_attrs[a.name()] = &a;

  auto map_name = [&](const std::string& n) -> std::string {
    if (n.empty()) return n;
    auto it = rename.find(n);
    if (it != rename.end()) return it->second;
    return prefix + n;
  };

  std::vector<onnx::NodeProto> out;
  for (const auto& body : fn.node()) {
    onnx::NodeProto n = body;
    n.set_name(prefix + (body.name().empty() ? body.op_type() + std::to_string(out.size()) : body.name()));
    for (int i = 0; i < n.input_size(); ++i) n.set_input(i, map_name(body.input(i)));
    for (int i = 0; i < n.output_size(); ++i) n.set_output(i, map_name(body.output(i)));
    n.clear_attribute();
    for (const auto& a : body.attribute()) {
      if (a.ref_attr_name().empty()) {
        *n.add_attribute() = a;
        continue;
      }
      auto it = call_attrs.find(a.ref_attr_name());
      if (it != call_attrs.end()) {
        onnx::AttributeProto copy = *it->second;
        copy.set_name(a.name());
        *n.add_attribute() = copy;
        continue;
      }
      if (schema != nullptr) {
        auto sa = schema->attributes().find(a.ref_attr_name());
        if (sa != schema->attributes().end() && sa->second.default_value.has_type()) {
          onnx::AttributeProto copy = sa->second.default_value;
          copy.set_name(a.name());
          *n.add_attribute() = copy;
        }
      }
      // Otherwise the attribute is left out and the body op's own default applies.
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace idem
