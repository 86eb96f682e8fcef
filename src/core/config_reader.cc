#include "edgeserve/core/config_reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeserve::core {

ConfigReader::ConfigReader(const YAML::Node& node, std::string file, std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    errors_.push_back(absl::StrCat(file_, ": ", path_.empty() ? "top level" : path_,
                                   ": expected a mapping of keys to values"));
  }
}

std::string ConfigReader::KeyPath(const std::string& key) const {
  return path_.empty() ? key : absl::StrCat(path_, ".", key);
}

YAML::Node ConfigReader::Get(const std::string& key) {
  known_keys_.push_back(key);
  if (!node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  return node_[key];
}

bool ConfigReader::Has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
}

void ConfigReader::Error(const std::string& key, const std::string& message) {
  errors_.push_back(absl::StrCat(file_, ": ", KeyPath(key), ": ", message));
}

void ConfigReader::Int(const std::string& key, int64_t* out, int64_t min, int64_t max) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  int64_t parsed = 0;
  if (!value.IsScalar() || !YAML::convert<int64_t>::decode(value, parsed)) {
    Error(key, "expected an integer");
    return;
  }
  if (parsed < min || parsed > max) {
    Error(key, absl::StrCat("must be between ", min, " and ", max, ", got ", parsed));
    return;
  }
  *out = parsed;
}

void ConfigReader::Int(const std::string& key, int* out, int min, int max) {
  int64_t wide = *out;
  Int(key, &wide, min, max);
  *out = static_cast<int>(wide);
}

void ConfigReader::Double(const std::string& key, double* out, double min, double max) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  double parsed = 0;
  if (!value.IsScalar() || !YAML::convert<double>::decode(value, parsed) || !std::isfinite(parsed)) {
    Error(key, "expected a number");
    return;
  }
  if (parsed < min || parsed > max) {
    Error(key, absl::StrCat("must be between ", min, " and ", max, ", got ", parsed));
    return;
  }
  *out = parsed;
}

void ConfigReader::Bool(const std::string& key, bool* out) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  bool parsed = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, parsed)) {
    Error(key, "expected true or false");
    return;
  }
  *out = parsed;
}

void ConfigReader::String(const std::string& key, std::string* out) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  if (!value.IsScalar()) {
    Error(key, "expected a string");
    return;
  }
  *out = value.Scalar();
}

void ConfigReader::Choice(const std::string& key, std::string* out,
                          const std::vector<std::string>& choices) {
  std::string parsed = *out;
  const size_t errors_before = errors_.size();
  String(key, &parsed);
  if (errors_.size() != errors_before) return;
  if (std::find(choices.begin(), choices.end(), parsed) == choices.end()) {
    Error(key, absl::StrCat("must be one of ", absl::StrJoin(choices, ", "), ", got '", parsed, "'"));
    return;
  }
  *out = parsed;
}

void ConfigReader::IntList(const std::string& key, std::vector<int64_t>* out) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  if (!value.IsSequence()) {
    Error(key, "expected a list of integers such as [3, 224, 224]");
    return;
  }
  std::vector<int64_t> parsed;
  for (const auto& element : value) {
    int64_t number = 0;
    if (!element.IsScalar() || !YAML::convert<int64_t>::decode(element, number)) {
      Error(key, "expected a list of integers such as [3, 224, 224]");
      return;
    }
    parsed.push_back(number);
  }
  *out = std::move(parsed);
}

void ConfigReader::StringList(const std::string& key, std::vector<std::string>* out) {
  YAML::Node value = Get(key);
  if (!value.IsDefined() || value.IsNull()) return;
  if (!value.IsSequence()) {
    Error(key, "expected a list of strings such as [cuda, npu, cpu]");
    return;
  }
  std::vector<std::string> parsed;
  for (const auto& element : value) {
    if (!element.IsScalar()) {
      Error(key, "expected a list of strings such as [cuda, npu, cpu]");
      return;
    }
    parsed.push_back(element.Scalar());
  }
  *out = std::move(parsed);
}

ConfigReader ConfigReader::Child(const std::string& key) {
  YAML::Node value = Get(key);
  if (value.IsDefined() && !value.IsNull() && !value.IsMap()) {
    Error(key, "expected a mapping of keys to values");
    value = YAML::Node(YAML::NodeType::Undefined);
  }
  return ConfigReader(value, file_, KeyPath(key));
}

std::vector<ConfigReader> ConfigReader::Sequence(const std::string& key) {
  YAML::Node value = Get(key);
  std::vector<ConfigReader> elements;
  if (!value.IsDefined() || value.IsNull()) return elements;
  if (!value.IsSequence()) {
    Error(key, "expected a list");
    return elements;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    elements.emplace_back(value[i], file_, absl::StrCat(KeyPath(key), "[", i, "]"));
  }
  return elements;
}

void ConfigReader::Merge(const absl::Status& child_status) {
  if (!child_status.ok()) errors_.emplace_back(child_status.message());
}

absl::Status ConfigReader::Finish() {
  std::set<std::string> seen_keys;
  if (node_.IsMap()) {
    for (const auto& entry : node_) {
      if (!entry.first.IsScalar()) {
        errors_.push_back(absl::StrCat(file_, ": ", path_.empty() ? "top level" : path_,
                                       ": keys must be plain strings"));
        continue;
      }
      const std::string key = entry.first.Scalar();
      if (std::find(known_keys_.begin(), known_keys_.end(), key) == known_keys_.end()) {
        Error(key, "unknown key");
      } else if (!seen_keys.insert(key).second) {
        // yaml-cpp keeps both and answers lookups with the first: the second
        // would be ignored without a word.
        Error(key, "given twice; keep one");
      }
    }
  }
  if (errors_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
}

absl::Status LoadYamlFile(const std::string& file, YAML::Node* node) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    return absl::NotFoundError(absl::StrCat(file, ": no such file"));
  }
  // yaml-cpp holds about 80 times a file's size while parsing it: a 50 MB
  // file took 4.3 GB. No configuration is near the limit.
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  if (!error && size > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", size, " bytes, larger than the ", kMaxConfigFileBytes,
                                                   " bytes a configuration file may have"));
  }
  try {
    *node = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not valid YAML: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace edgeserve::core
