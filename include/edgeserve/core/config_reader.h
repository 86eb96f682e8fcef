// Strict reading of one YAML mapping into plain structs. Every error names the
// file and the key ("configs/edgeserve.yaml: server.address: expected a
// string"), unknown keys are errors, and a missing key keeps the caller's
// default. Used for the daemon config and every model config.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "yaml-cpp/yaml.h"

namespace edgeserve::core {

class ConfigReader {
 public:
  // `node` must outlive the reader. `path` is the dotted key path of `node`
  // ("" at the top), used in messages.
  ConfigReader(const YAML::Node& node, std::string file, std::string path);

  // Each getter leaves `out` untouched when the key is absent and records an
  // error when it has the wrong type or is out of range.
  void Int(const std::string& key, int64_t* out, int64_t min, int64_t max);
  void Int(const std::string& key, int* out, int min, int max);
  // A number, integer or decimal, finite.
  void Double(const std::string& key, double* out, double min, double max);
  void Bool(const std::string& key, bool* out);
  void String(const std::string& key, std::string* out);
  // A string that must be one of `choices`.
  void Choice(const std::string& key, std::string* out, const std::vector<std::string>& choices);
  void IntList(const std::string& key, std::vector<int64_t>* out);
  void StringList(const std::string& key, std::vector<std::string>* out);

  bool Has(const std::string& key) const;
  // A nested mapping; records an error if `key` holds anything else. Hand
  // the child's Finish() back through Merge().
  ConfigReader Child(const std::string& key);
  // The elements of a sequence of mappings, each to be merged like a child.
  std::vector<ConfigReader> Sequence(const std::string& key);
  void Merge(const absl::Status& child_status);

  // Records an error about `key` found by the caller's own checks.
  void Error(const std::string& key, const std::string& message);

  // Checks for keys no getter asked about; returns every error recorded,
  // one per line.
  absl::Status Finish();

 private:
  std::string KeyPath(const std::string& key) const;
  YAML::Node Get(const std::string& key);

  YAML::Node node_;
  std::string file_;
  std::string path_;
  std::vector<std::string> known_keys_;
  std::vector<std::string> errors_;
};

inline constexpr std::uintmax_t kMaxConfigFileBytes = 1 << 20;

// Parses `file` as YAML; an unreadable, malformed or oversized file is an
// error naming it.
absl::Status LoadYamlFile(const std::string& file, YAML::Node* node);

}  // namespace edgeserve::core
