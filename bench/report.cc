#include "report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgeserve::bench {
namespace {

// Nearest rank: the smallest sample with at least `fraction` of all samples at
// or below it, so p99 of 100 samples is the 99th, never an interpolation.
int64_t Percentile(std::vector<int64_t>& samples, double fraction) {
  const size_t n = samples.size();
  size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  auto nth = samples.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

// JSON has no NaN or infinity; a zero-length window cannot happen through the
// flags, but the printer must not emit invalid JSON if it ever does.
std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.3f", value);
}

}  // namespace

LatencySummary SummarizeLatencies(std::vector<int64_t>& latencies_ns) {
  LatencySummary summary;
  if (latencies_ns.empty()) return summary;
  summary.count = static_cast<int64_t>(latencies_ns.size());
  // Selection rather than a full sort: a 10 s run against the echo server
  // holds about half a million samples.
  summary.p50_us = Percentile(latencies_ns, 0.50) / 1e3;
  summary.p90_us = Percentile(latencies_ns, 0.90) / 1e3;
  summary.p99_us = Percentile(latencies_ns, 0.99) / 1e3;
  summary.max_us = *std::max_element(latencies_ns.begin(), latencies_ns.end()) / 1e3;
  return summary;
}

double Report::RequestsPerSecond() const {
  return duration_s > 0 ? static_cast<double>(requests) / duration_s : 0.0;
}

double Report::InferencesPerSecond() const { return RequestsPerSecond() * static_cast<double>(batch); }

std::string FormatTable(const Report& report) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"mode", report.mode},
      {"target", report.target},
      {"concurrency", absl::StrCat(report.concurrency)},
      {"batch", absl::StrCat(report.batch)},
      {"window", absl::StrFormat("%.2f s after %.2f s of warm-up", report.duration_s, report.warmup_s)},
  };
  rows.insert(rows.end(), report.details.begin(), report.details.end());
  rows.insert(rows.end(), {
      {"requests", absl::StrCat(report.requests)},
      {"requests/s", absl::StrFormat("%.1f", report.RequestsPerSecond())},
      {"inferences/s", absl::StrFormat("%.1f", report.InferencesPerSecond())},
      {"latency p50", absl::StrFormat("%.1f us", report.latency.p50_us)},
      {"latency p90", absl::StrFormat("%.1f us", report.latency.p90_us)},
      {"latency p99", absl::StrFormat("%.1f us", report.latency.p99_us)},
      {"latency max", absl::StrFormat("%.1f us", report.latency.max_us)},
      {"errors", absl::StrCat(report.errors)},
  });
  if (!report.first_error.empty()) rows.emplace_back("first error", report.first_error);

  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out;
  for (const auto& [name, value] : rows) {
    absl::StrAppend(&out, name, std::string(width + 2 - name.size(), ' '), value, "\n");
  }
  return out;
}

std::string FormatJson(const Report& report) {
  std::string details = "{";
  for (size_t i = 0; i < report.details.size(); ++i) {
    absl::StrAppend(&details, i == 0 ? "" : ",", JsonString(report.details[i].first), ":",
                    JsonString(report.details[i].second));
  }
  details += "}";
  return absl::StrCat(
      "{\"mode\":", JsonString(report.mode), ",\"target\":", JsonString(report.target),
      ",\"concurrency\":", report.concurrency, ",\"batch\":", report.batch,
      ",\"warmup_s\":", JsonNumber(report.warmup_s), ",\"duration_s\":", JsonNumber(report.duration_s),
      ",\"requests\":", report.requests,
      ",\"requests_per_s\":", JsonNumber(report.RequestsPerSecond()),
      ",\"inferences_per_s\":", JsonNumber(report.InferencesPerSecond()),
      ",\"p50_us\":", JsonNumber(report.latency.p50_us), ",\"p90_us\":", JsonNumber(report.latency.p90_us),
      ",\"p99_us\":", JsonNumber(report.latency.p99_us), ",\"max_us\":", JsonNumber(report.latency.max_us),
      ",\"errors\":", report.errors, ",\"first_error\":", JsonString(report.first_error),
      ",\"details\":", details, "}");
}

}  // namespace edgeserve::bench
