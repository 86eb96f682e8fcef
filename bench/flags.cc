#include "flags.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace edgeserve::bench {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& args,
                                   const std::set<std::string>& switches) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view word = args[i];
    if (!absl::ConsumePrefix(&word, "--") || word.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("expected a --flag, got '", args[i], "'"));
    }
    std::string name;
    std::string value;
    if (size_t eq = word.find('='); eq != absl::string_view::npos) {
      name = std::string(word.substr(0, eq));
      value = std::string(word.substr(eq + 1));
    } else if (switches.count(std::string(word)) != 0) {
      name = std::string(word);
    } else {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("--", word, " needs a value"));
      }
      name = std::string(word);
      value = args[++i];
    }
    if (!flags.values_.emplace(name, value).second) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " given twice"));
    }
  }
  return flags;
}

bool Flags::Switch(const std::string& name) {
  used_.insert(name);
  return values_.count(name) != 0;
}

bool Flags::Has(const std::string& name) const { return values_.count(name) != 0; }

absl::StatusOr<std::string> Flags::String(const std::string& name) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  }
  return it->second;
}

std::string Flags::String(const std::string& name, const std::string& fallback) {
  used_.insert(name);
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> Flags::Int(const std::string& name, int64_t fallback, int64_t min) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": expected an integer of at least ", min, ", got '", it->second, "'"));
  }
  return value;
}

namespace {

absl::StatusOr<double> ParseDouble(const std::string& name, const std::string& text, double min,
                                   const char* what) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value) || value < min) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": expected ", what, " of at least ", min, ", got '",
                                                   text, "'"));
  }
  return value;
}

}  // namespace

absl::StatusOr<double> Flags::Seconds(const std::string& name, double fallback, double min) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  return ParseDouble(name, it->second, min, "seconds");
}

absl::StatusOr<double> Flags::Number(const std::string& name, double fallback, double min) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  return ParseDouble(name, it->second, min, "a number");
}

absl::StatusOr<std::vector<int64_t>> Flags::Shape(const std::string& name) {
  absl::StatusOr<std::vector<std::vector<int64_t>>> shapes = Shapes(name);
  if (!shapes.ok()) return shapes.status();
  if (shapes->size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": expected one shape, got ", shapes->size()));
  }
  return shapes->empty() ? std::vector<int64_t>() : shapes->front();
}

absl::StatusOr<std::vector<std::vector<int64_t>>> Flags::Shapes(const std::string& name) {
  used_.insert(name);
  std::vector<std::vector<int64_t>> shapes;
  auto it = values_.find(name);
  if (it == values_.end()) return shapes;
  for (absl::string_view text : absl::StrSplit(it->second, ':')) {
    std::vector<int64_t>& shape = shapes.emplace_back();
    for (absl::string_view part : absl::StrSplit(text, ',')) {
      int64_t dim = 0;
      if (!absl::SimpleAtoi(part, &dim) || dim < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, ": expected positive dimensions separated by commas, shapes by ':', got '", it->second, "'"));
      }
      shape.push_back(dim);
    }
  }
  return shapes;
}

absl::Status Flags::CheckAllUsed() const {
  std::vector<std::string> unknown;
  for (const auto& [name, value] : values_) {
    if (used_.count(name) == 0) unknown.push_back("--" + name);
  }
  if (unknown.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown flag(s) for this mode: ", absl::StrJoin(unknown, ", ")));
}

}  // namespace edgeserve::bench
