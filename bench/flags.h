// Command-line flags of one edgeserve-bench mode: `--name value`,
// `--name=value`, or a bare `--name` for the switches the mode declares.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgeserve::bench {

class Flags {
 public:
  // `args` are the words after the mode; `switches` names the flags that take
  // no value.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& args,
                                     const std::set<std::string>& switches);

  bool Switch(const std::string& name);
  // Whether the flag was given; does not count as asking for it.
  bool Has(const std::string& name) const;
  absl::StatusOr<std::string> String(const std::string& name);  // required
  std::string String(const std::string& name, const std::string& fallback);
  absl::StatusOr<int64_t> Int(const std::string& name, int64_t fallback, int64_t min);
  absl::StatusOr<double> Seconds(const std::string& name, double fallback, double min);
  // A decimal number such as a rate or milliseconds.
  absl::StatusOr<double> Number(const std::string& name, double fallback, double min);
  // "1,3,224,224" -> {1, 3, 224, 224}; empty when the flag is absent.
  absl::StatusOr<std::vector<int64_t>> Shape(const std::string& name);
  // Shapes separated by ':' ("1,32:1,64"); empty when the flag is not given.
  absl::StatusOr<std::vector<std::vector<int64_t>>> Shapes(const std::string& name);

  // An error naming every flag no getter asked for, so a typo such as
  // --concurency fails instead of silently running with the default.
  absl::Status CheckAllUsed() const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

}  // namespace edgeserve::bench
