// How edgeserve-cli prints what the server answers. Every function returns
// complete lines, each ending in '\n'.
#ifndef EDGESERVE_CLI_OUTPUT_FORMAT_H_
#define EDGESERVE_CLI_OUTPUT_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "edgeserve.pb.h"
#include "grpc_service.pb.h"
#include "host_tensor.h"

namespace edgeserve::cli {

// How many leading elements of a tensor are printed.
inline constexpr int64_t kPrintedElements = 16;

// `text` with control characters written as escapes (\n, \t, \xNN), so a
// name or message from the server cannot break the lines printed around it.
std::string Printable(absl::string_view text);

// Columns left-aligned, two spaces apart, no trailing spaces; cells are
// Printable.
std::string FormatTable(const std::vector<std::vector<std::string>>& cells);

// "output NAME: DATATYPE [shape]", the first kPrintedElements values with the
// element count and, for a 2-D floating tensor (a classifier's logits), the
// minimum, maximum and argmax of its first row.
std::string FormatTensor(absl::string_view name, const core::Tensor& tensor);

std::string FormatServerMetadata(const inference::ServerMetadataResponse& metadata);
std::string FormatRepositoryIndex(const inference::RepositoryIndexResponse& index);
std::string FormatDevices(const edgeserve::DeviceListResponse& devices);
std::string FormatModelMetadata(const inference::ModelMetadataResponse& metadata);
// JSON with the proto's field names, every scalar field shown (zeros too),
// as Triton's HTTP endpoint prints a model's config.
std::string FormatModelConfig(const inference::ModelConfig& config);
// Durations are printed as averages per count, in microseconds.
std::string FormatModelStatistics(const inference::ModelStatisticsResponse& statistics);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_OUTPUT_FORMAT_H_
