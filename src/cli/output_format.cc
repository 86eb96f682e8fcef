#include "output_format.h"

#include <algorithm>
#include <ctime>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace edgeserve::cli {
namespace {

std::vector<int64_t> ShapeOf(const google::protobuf::RepeatedField<int64_t>& dims) {
  return std::vector<int64_t>(dims.begin(), dims.end());
}

std::string FormatDuration(const inference::StatisticDuration& duration) {
  std::string line = absl::StrCat("count ", duration.count());
  if (duration.count() != 0) {
    absl::StrAppendFormat(&line, " avg %.1f us",
                          static_cast<double>(duration.ns()) / duration.count() / 1000.0);
  }
  return line;
}

std::string FormatEpochMillis(uint64_t millis) {
  if (millis == 0) return "never";
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &utc);
  return absl::StrFormat("%s.%03dZ", buffer, millis % 1000);
}

}  // namespace

std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& cells) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& row : cells) {
    rows.emplace_back();
    for (const std::string& cell : row) rows.back().push_back(Printable(cell));
  }
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i != 0) line.append(2, ' ');
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

std::string FormatTensor(absl::string_view name, const core::Tensor& tensor) {
  std::string out = absl::StrCat("output ", Printable(name), ": ", core::DataTypeName(tensor.datatype), " ",
                                 FormatShape(tensor.shape), "\n");
  const size_t element_size = core::DataTypeSize(tensor.datatype);  // 0 only for BYTES
  const int64_t count =
      element_size == 0 ? 0 : static_cast<int64_t>(tensor.data.size() / element_size);
  std::vector<std::string> values;
  for (int64_t i = 0; i < std::min(count, kPrintedElements); ++i) {
    values.push_back(ElementToString(tensor, i));
  }
  if (count > kPrintedElements) values.push_back("...");
  absl::StrAppend(&out, "  values: [", absl::StrJoin(values, ", "), "] (", count,
                  count == 1 ? " element" : " elements", ")\n");

  if (IsFloating(tensor.datatype) && tensor.shape.size() == 2 && tensor.shape[0] > 0 &&
      tensor.shape[1] > 0) {
    const int64_t row = tensor.shape[1];
    int64_t argmin = 0;
    int64_t argmax = 0;
    for (int64_t i = 1; i < row; ++i) {
      const double value = ElementAsDouble(tensor, i);
      if (value < ElementAsDouble(tensor, argmin)) argmin = i;
      if (value > ElementAsDouble(tensor, argmax)) argmax = i;
    }
    absl::StrAppend(&out, "  first row: min ", ElementToString(tensor, argmin), " max ",
                    ElementToString(tensor, argmax), " argmax ", argmax, "\n");
  }
  return out;
}

std::string FormatServerMetadata(const inference::ServerMetadataResponse& metadata) {
  return absl::StrCat(
      "name: ", Printable(metadata.name()), "\nversion: ", Printable(metadata.version()), "\nextensions: ",
      metadata.extensions().empty() ? "(none)" : Printable(absl::StrJoin(metadata.extensions(), ", ")), "\n");
}

std::string FormatRepositoryIndex(const inference::RepositoryIndexResponse& index) {
  if (index.models().empty()) return "no models\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "VERSION", "STATE", "REASON"}};
  for (const auto& model : index.models()) {
    rows.push_back({model.name(), model.version(), model.state(), model.reason()});
  }
  return FormatTable(rows);
}

std::string FormatDevices(const edgeserve::DeviceListResponse& devices) {
  if (devices.devices().empty()) return "no devices\n";
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::vector<std::vector<std::string>> rows = {{"DEVICE", "NAME", "MEMORY", "FREE", "PRECISIONS"}};
  for (const auto& device : devices.devices()) {
    const bool reported = device.memory_total_bytes() > 0;
    rows.push_back({absl::StrCat(device.kind(), ":", device.index()), device.name(),
                    reported ? absl::StrFormat("%.1f GiB", static_cast<double>(device.memory_total_bytes()) / kGiB)
                             : "-",
                    reported ? absl::StrFormat("%.1f GiB", static_cast<double>(device.memory_free_bytes()) / kGiB)
                             : "-",
                    absl::StrJoin(device.capabilities(), ", ")});
  }
  return FormatTable(rows);
}

std::string FormatModelConfig(const inference::ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (const auto status = google::protobuf::util::MessageToJsonString(config, &json, options); !status.ok()) {
    return absl::StrCat("the config cannot be printed as JSON: ", status.ToString(), "\n");
  }
  if (json.empty() || json.back() != '\n') json.push_back('\n');
  return json;
}

std::string FormatModelMetadata(const inference::ModelMetadataResponse& metadata) {
  std::string out = absl::StrCat("model: ", Printable(metadata.name()), "\nplatform: ", Printable(metadata.platform()),
                                 "\nversions: ", Printable(absl::StrJoin(metadata.versions(), ", ")), "\n");
  const auto tensors = [](const auto& list) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& tensor : list) {
      rows.push_back(
          {"  " + tensor.name(), tensor.datatype(), FormatShape(ShapeOf(tensor.shape()))});
    }
    return FormatTable(rows);
  };
  absl::StrAppend(&out, "inputs:\n", tensors(metadata.inputs()), "outputs:\n",
                  tensors(metadata.outputs()));
  if (!metadata.edgeserve_instances().empty()) {
    std::vector<std::vector<std::string>> rows = {{"  GROUP", "ASKED", "DEVICE", "THREADS", "PRECISION", "STATE"}};
    std::vector<std::string> notes;
    for (const auto& instance : metadata.edgeserve_instances()) {
      rows.push_back({absl::StrCat("  ", instance.group()), instance.requested_kind(), instance.device(),
                      absl::StrCat(instance.threads()), instance.precision(),
                      instance.healthy() ? "healthy" : "out of rotation"});
      if (!instance.fallback().empty()) {
        notes.push_back(absl::StrCat("  group ", instance.group(), " fell back to ", instance.kind(), ": ",
                                     Printable(instance.fallback()), "\n"));
      }
      if (!instance.healthy()) {
        notes.push_back(
            absl::StrCat("  ", Printable(instance.device()), ": ", Printable(instance.health_error()), "\n"));
      }
    }
    notes.erase(std::unique(notes.begin(), notes.end()), notes.end());
    absl::StrAppend(&out, "instances:\n", FormatTable(rows), absl::StrJoin(notes, ""));
  }
  return out;
}

std::string FormatModelStatistics(const inference::ModelStatisticsResponse& statistics) {
  if (statistics.model_stats().empty()) return "no statistics\n";
  std::string out;
  for (const auto& model : statistics.model_stats()) {
    const auto& stats = model.inference_stats();
    absl::StrAppend(&out, "model ", Printable(model.name()), " version ", Printable(model.version()), "\n",
                    "  inference_count ", model.inference_count(), "\n", "  execution_count ", model.execution_count(),
                    "\n", "  last_inference ", FormatEpochMillis(model.last_inference()), "\n");
    absl::StrAppend(&out, FormatTable({
                              {"  success", FormatDuration(stats.success())},
                              {"  fail", FormatDuration(stats.fail())},
                              {"  queue", FormatDuration(stats.queue())},
                              {"  compute_input", FormatDuration(stats.compute_input())},
                              {"  compute_infer", FormatDuration(stats.compute_infer())},
                              {"  compute_output", FormatDuration(stats.compute_output())},
                          }));
    for (const auto& batch : model.batch_stats()) {
      absl::StrAppend(&out, "  batch_size ", batch.batch_size(), ": compute_input ",
                      FormatDuration(batch.compute_input()), ", compute_infer ",
                      FormatDuration(batch.compute_infer()), ", compute_output ",
                      FormatDuration(batch.compute_output()), "\n");
    }
    if (model.has_edgeserve_scheduler()) {
      const edgeserve::SchedulerStatistics& scheduler = model.edgeserve_scheduler();
      absl::StrAppend(&out, "  batching ", scheduler.mode(), ", up to ", scheduler.max_batch_size(), " per execution",
                      scheduler.latency_target_ms() > 0
                          ? absl::StrFormat(", latency target %.2f ms", scheduler.latency_target_ms())
                          : std::string(", no latency target"),
                      scheduler.admission_reserve_us() > 0
                          ? absl::StrFormat(", %.2f ms kept in hand at admission", scheduler.admission_reserve_us() / 1e3)
                          : std::string(),
                      "\n  refused: queue full ", scheduler.rejected_queue_full(), ", deadline ",
                      scheduler.rejected_deadline(), " (", scheduler.rejected_deadline_after_waiting(),
                      " after waiting), cancelled ", scheduler.cancelled(), "\n");
      std::vector<std::vector<std::string>> rows = {{"  instance", "batch", "expected", "deviation", "planned", "samples"}};
      for (const auto& estimate : scheduler.latency_profile()) {
        rows.push_back({absl::StrCat("  ", estimate.instance()), absl::StrCat(estimate.batch_size()),
                        absl::StrFormat("%.1f us", estimate.mean_us()), absl::StrFormat("%.1f us", estimate.deviation_us()),
                        absl::StrFormat("%.1f us", estimate.predicted_us()), absl::StrCat(estimate.samples())});
      }
      if (rows.size() > 1) absl::StrAppend(&out, FormatTable(rows));
    }
  }
  return out;
}

}  // namespace edgeserve::cli
