#include "handlers/image_resize_data.h"

#include <algorithm>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/field_errors.h"
#include "common/text_list.h"
#include "handlers/data_fields.h"
#include "handlers/http_target.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

constexpr size_t kMaxPathBytes = 1024;

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// Splits a '/'-separated path into its components; each must be a plain name (no "", ".", "..").
Result<std::vector<std::string>> SplitPath(std::string_view path, const std::string& field) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view name = path.substr(start, end - start);
    if (name.empty() || name == "." || name == "..") {
      return InvalidArgument(field, "must not contain empty, \".\" or \"..\" components");
    }
    components.emplace_back(name);
    start = end + 1;
  }
  return components;
}

Result<std::vector<std::string>> ParseOutputPath(std::string_view path, const std::string& field) {
  if (path.empty()) return InvalidArgument(field, "is required");
  if (path.size() > kMaxPathBytes) {
    return InvalidArgument(field, "is longer than " + std::to_string(kMaxPathBytes) + " bytes");
  }
  if (HasControlCharacter(path)) return InvalidArgument(field, "must not hold control characters");
  if (path.front() == '/') {
    return InvalidArgument(field, "must be relative to the output directory, not absolute");
  }
  return SplitPath(path, field);
}

// An integer field in [min, max]; `fallback` when absent, or required without one.
Result<int> ParseInt(const json::object& object, std::string_view key, const std::string& field,
                     int min, int max, std::optional<int> fallback) {
  Result<std::optional<int64_t>> n = OptionalInteger(object, key, field, min, max);
  if (!n.ok()) return n.status();
  if (n->has_value()) return static_cast<int>(**n);
  if (fallback) return *fallback;
  return InvalidArgument(field, "is required");
}

// The index of the value in `names`, or `fallback` when the field is absent.
template <size_t N>
Result<int> ParseName(const json::object& object, std::string_view key, const std::string& field,
                      const std::string_view (&names)[N], int fallback) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || value->is_null()) return fallback;
  if (const json::string* s = value->if_string()) {
    const auto it = std::find(std::begin(names), std::end(names), TextOf(*s));
    if (it != std::end(names)) return static_cast<int>(it - std::begin(names));
  }
  return InvalidArgument(field, "must be one of " + JoinList(names));
}

// Names every invalid field of the output.
Result<OutputSpec> ParseOutput(const json::value& value, const std::string& field,
                               const ImageResizeOptions& options) {
  const json::object* object = value.if_object();
  if (object == nullptr) return InvalidArgument(field, "must be an object");
  FieldErrors errors;
  errors.Check(
      RejectUnknownKeys(*object, {"width", "height", "fit", "format", "quality", "path"}, field));
  OutputSpec out;
  Result<int> width = ParseInt(*object, "width", field + ".width", 1, options.max_dimension, {});
  errors.Check(width.status());
  Result<int> height = ParseInt(*object, "height", field + ".height", 1, options.max_dimension, {});
  errors.Check(height.status());
  Result<int> fit = ParseName(*object, "fit", field + ".fit", kFitNames, 3);
  errors.Check(fit.status());
  Result<int> format = ParseName(*object, "format", field + ".format", kFormatNames, 0);
  errors.Check(format.status());
  Result<int> quality = ParseInt(*object, "quality", field + ".quality", 1, 100, kDefaultQuality);
  errors.Check(quality.status());
  // ParseOutputPath holds the path to its own length limit.
  Result<std::string> path = RequiredString(*object, "path", field + ".path", SIZE_MAX);
  if (errors.Check(path.status())) {
    out.path = std::move(*path);
    auto components = ParseOutputPath(out.path, field + ".path");
    if (errors.Check(components.status())) out.components = std::move(*components);
  }
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  out.width = *width;
  out.height = *height;
  out.fit = static_cast<Fit>(*fit);
  out.format = static_cast<Format>(*format);
  out.quality = *quality;
  return out;
}

// `out->source`, a URL or an absolute file path, checked; sets source_is_url.
Status ParseSource(ImageResizeData* out) {
  if (out->source.find("://") != std::string::npos) {
    out->source_is_url = true;
    return ParseHttpTarget(out->source, nullptr, "data.source").status();
  }
  if (out->source.empty() || out->source.front() != '/') {
    return InvalidArgument("data.source",
                           "must be an absolute file path (below the worker's input root) or an "
                           "http(s) URL");
  }
  if (out->source.size() > kMaxPathBytes || HasControlCharacter(out->source)) {
    return InvalidArgument("data.source", "is not a usable file path");
  }
  return SplitPath(std::string_view(out->source).substr(1), "data.source").status();
}

}  // namespace

Result<ImageResizeData> ParseImageResizeData(std::string_view data_json,
                                             const ImageResizeOptions& options) {
  Result<json::value> root = ParseDataObject(data_json);
  if (!root.ok()) return root.status();
  const json::object* data = &root->get_object();
  // Every invalid field is named, not only the first (docs/http-api.md, "Errors").
  FieldErrors errors;
  errors.Check(RejectUnknownKeys(*data, {"source", "outputs", "keep_metadata"}, "data"));
  ImageResizeData out;

  // Checked by ParseSource against the path or URL limits.
  Result<std::string> source = RequiredString(*data, "source", "data.source", SIZE_MAX);
  if (errors.Check(source.status())) {
    out.source = std::move(*source);
    errors.Check(ParseSource(&out));
  }

  const json::value* outputs = data->if_contains("outputs");
  const json::array* list = outputs != nullptr ? outputs->if_array() : nullptr;
  if (outputs == nullptr || outputs->is_null()) {
    errors.Add(InvalidArgument("data.outputs", "is required"));
  } else if (list == nullptr || list->empty() ||
             list->size() > static_cast<size_t>(options.max_outputs)) {
    errors.Add(InvalidArgument(
        "data.outputs",
        "must be an array of 1 to " + std::to_string(options.max_outputs) + " outputs"));
  } else {
    // An output that is invalid takes no part in the comparison of paths.
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string field = "data.outputs[" + std::to_string(i) + "]";
      Result<OutputSpec> output = ParseOutput((*list)[i], field, options);
      if (!errors.Check(output.status())) continue;
      const bool repeated = std::any_of(
          out.outputs.begin(), out.outputs.end(),
          [&](const OutputSpec& earlier) { return earlier.components == output->components; });
      if (repeated) {
        errors.Add(InvalidArgument(field + ".path", "is the path of an earlier output"));
        continue;
      }
      out.outputs.push_back(std::move(*output));
    }
  }

  Result<bool> keep = OptionalBool(*data, "keep_metadata", "data.keep_metadata", false);
  if (errors.Check(keep.status())) out.keep_metadata = *keep;
  if (Status s = std::move(errors).ToStatus(); !s.ok()) return s;
  return out;
}

}  // namespace taskq::handlers
