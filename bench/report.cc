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

double Report::GoodputPerSecond() const {
  if (!open_loop || duration_s <= 0) return 0;
  return static_cast<double>(open_loop->within_slo) / duration_s;
}

double OpenLoopSummary::Attainment() const {
  return Arrivals() > 0 ? static_cast<double>(within_slo) / static_cast<double>(Arrivals()) : 0.0;
}

bool IsRejection(int code) {
  switch (code) {
    case 4:   // DEADLINE_EXCEEDED: the request's time ran out, in the queue or on the wire
    case 8:   // RESOURCE_EXHAUSTED: queue full
    case 10:  // ABORTED
    case 14:  // UNAVAILABLE: shed, or not ready
      return true;
    default:
      return false;
  }
}

namespace {

std::string Microseconds(double us) { return absl::StrFormat("%.1f us", us); }

// The rows only an open-loop report has, after the window and details.
void AppendOpenLoopRows(const Report& report, std::vector<std::pair<std::string, std::string>>& rows) {
  const OpenLoopSummary& open = *report.open_loop;
  rows.insert(rows.end(), {
      {"offered rate", absl::StrFormat("%.1f requests/s (Poisson arrivals)", open.rate_per_s)},
      {"SLO", absl::StrFormat("%g ms", open.slo_ms)},
      {"sent", absl::StrFormat("%d (arrivals in the window)", open.sent)},
      {"dropped by client", absl::StrFormat("%d (max in flight reached)", open.dropped)},
      {"successes", absl::StrCat(report.requests)},
      {"throughput", absl::StrFormat("%.1f requests/s, %.1f inferences/s", report.RequestsPerSecond(),
                                     report.InferencesPerSecond())},
      {"goodput", absl::StrFormat("%.1f requests/s within the SLO", report.GoodputPerSecond())},
      {"SLO attainment", absl::StrFormat("%.1f%% (%d of %d arrivals)", 100 * open.Attainment(), open.within_slo,
                                         open.Arrivals())},
      {"latency p50", Microseconds(report.latency.p50_us)},
      {"latency p90", Microseconds(report.latency.p90_us)},
      {"latency p99", Microseconds(report.latency.p99_us)},
      {"latency max", Microseconds(report.latency.max_us)},
      {"rejected", absl::StrFormat("%d (p50 %.1f us, p99 %.1f us)", open.rejected.count, open.rejected.p50_us,
                                   open.rejected.p99_us)},
  });
  for (const FailureGroup& group : open.rejections) {
    rows.emplace_back(absl::StrCat("  ", group.code),
                      absl::StrFormat("%d (p50 %.1f us, p99 %.1f us)", group.count, group.p50_us, group.p99_us));
  }
  rows.insert(rows.end(), {
      {"other errors", absl::StrFormat("%d (client timeouts %d)", open.other_errors, open.client_timeouts)},
      {"sender lag", absl::StrFormat("p99 %.1f us, max %.1f us", open.lag_p99_us, open.lag_max_us)},
      {"peak in flight", absl::StrCat(open.peak_in_flight)},
  });
}

std::string JsonGroup(const FailureGroup& group) {
  return absl::StrCat("{\"count\":", group.count, ",\"p50_us\":", JsonNumber(group.p50_us),
                      ",\"p99_us\":", JsonNumber(group.p99_us), "}");
}

std::string OpenLoopJson(const Report& report) {
  const OpenLoopSummary& open = *report.open_loop;
  std::string rejections = "{";
  for (size_t i = 0; i < open.rejections.size(); ++i) {
    absl::StrAppend(&rejections, i == 0 ? "" : ",", JsonString(open.rejections[i].code), ":",
                    JsonGroup(open.rejections[i]));
  }
  rejections += "}";
  return absl::StrCat(
      ",\"offered_rate_per_s\":", JsonNumber(open.rate_per_s), ",\"slo_ms\":", JsonNumber(open.slo_ms),
      ",\"sent\":", open.sent, ",\"dropped\":", open.dropped, ",\"successes\":", report.requests,
      ",\"throughput_per_s\":", JsonNumber(report.RequestsPerSecond()), ",\"within_slo\":", open.within_slo,
      ",\"goodput_per_s\":", JsonNumber(report.GoodputPerSecond()),
      // A fraction needs more than the three decimals of the other numbers.
      ",\"slo_attainment\":", std::isfinite(open.Attainment()) ? absl::StrFormat("%.6f", open.Attainment()) : "null",
      ",\"rejected\":", JsonGroup(open.rejected), ",\"rejections\":", rejections,
      ",\"other_errors\":", open.other_errors, ",\"client_timeouts\":", open.client_timeouts,
      ",\"lag_p99_us\":", JsonNumber(open.lag_p99_us), ",\"lag_max_us\":", JsonNumber(open.lag_max_us),
      ",\"peak_in_flight\":", open.peak_in_flight);
}

}  // namespace

std::string FormatTable(const Report& report) {
  std::vector<std::pair<std::string, std::string>> rows = {{"mode", report.mode}, {"target", report.target}};
  if (!report.open_loop) rows.emplace_back("concurrency", absl::StrCat(report.concurrency));
  rows.insert(rows.end(), {
      {"batch", absl::StrCat(report.batch)},
      {"window", absl::StrFormat("%.2f s after %.2f s of warm-up", report.duration_s, report.warmup_s)},
  });
  rows.insert(rows.end(), report.details.begin(), report.details.end());
  if (report.open_loop) {
    AppendOpenLoopRows(report, rows);
  } else {
    rows.insert(rows.end(), {
        {"requests", absl::StrCat(report.requests)},
        {"requests/s", absl::StrFormat("%.1f", report.RequestsPerSecond())},
        {"inferences/s", absl::StrFormat("%.1f", report.InferencesPerSecond())},
        {"latency p50", Microseconds(report.latency.p50_us)},
        {"latency p90", Microseconds(report.latency.p90_us)},
        {"latency p99", Microseconds(report.latency.p99_us)},
        {"latency max", Microseconds(report.latency.max_us)},
        {"errors", absl::StrCat(report.errors)},
    });
  }
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
      report.open_loop ? OpenLoopJson(report) : "", ",\"details\":", details, "}");
}

}  // namespace edgeserve::bench
