#include "cli_commands.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "grpcpp/client_context.h"
#include "npy.h"
#include "output_format.h"
#include "random_tensor.h"

namespace edgeserve::cli {
namespace {

using inference::GRPCInferenceService;

void SetDeadline(grpc::ClientContext& context, const Options& options) {
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(options.timeout_ms));
}

template <typename Message>
std::string Names(const google::protobuf::RepeatedPtrField<Message>& tensors) {
  return absl::StrJoin(tensors, ", ",
                       [](std::string* out, const Message& tensor) { out->append(tensor.name()); });
}

// Typed contents widened by protobuf (INT8 in int32, UINT8 in uint32) are
// narrowed back to the element type.
template <typename T, typename Values>
std::string Pack(const Values& values) {
  std::string data(values.size() * sizeof(T), '\0');
  for (int i = 0; i < values.size(); ++i) {
    const T value = static_cast<T>(values[i]);
    std::memcpy(data.data() + i * sizeof(T), &value, sizeof(T));
  }
  return data;
}

absl::StatusOr<std::string> TypedContents(const inference::InferTensorContents& contents,
                                          core::DataType datatype) {
  switch (datatype) {
    case core::DataType::kBool:
      return Pack<uint8_t>(contents.bool_contents());
    case core::DataType::kUint8:
      return Pack<uint8_t>(contents.uint_contents());
    case core::DataType::kInt8:
      return Pack<int8_t>(contents.int_contents());
    case core::DataType::kInt16:
      return Pack<int16_t>(contents.int_contents());
    case core::DataType::kInt32:
      return Pack<int32_t>(contents.int_contents());
    case core::DataType::kInt64:
      return Pack<int64_t>(contents.int64_contents());
    case core::DataType::kFp16:
      return absl::InvalidArgumentError(
          "FP16 has no typed contents; the server must send raw_output_contents");
    case core::DataType::kFp32:
      return Pack<float>(contents.fp32_contents());
    case core::DataType::kFp64:
      return Pack<double>(contents.fp64_contents());
    case core::DataType::kBytes:  // refused by OutputTensor
      break;
  }
  return std::string();
}

absl::StatusOr<int> Health(const Options& options, GRPCInferenceService::StubInterface& stub,
                           std::ostream& out) {
  grpc::ClientContext live_context;
  SetDeadline(live_context, options);
  inference::ServerLiveResponse live;
  if (grpc::Status status = stub.ServerLive(&live_context, {}, &live); !status.ok()) {
    return FromGrpcStatus(status);
  }
  grpc::ClientContext ready_context;
  SetDeadline(ready_context, options);
  inference::ServerReadyResponse ready;
  if (grpc::Status status = stub.ServerReady(&ready_context, {}, &ready); !status.ok()) {
    return FromGrpcStatus(status);
  }
  out << "live: " << (live.live() ? "true" : "false") << "\n"
      << "ready: " << (ready.ready() ? "true" : "false") << "\n";
  return ready.ready() ? kExitOk : kExitNotReady;
}

absl::StatusOr<int> Server(const Options& options, GRPCInferenceService::StubInterface& stub,
                           std::ostream& out) {
  grpc::ClientContext context;
  SetDeadline(context, options);
  inference::ServerMetadataResponse metadata;
  if (grpc::Status status = stub.ServerMetadata(&context, {}, &metadata); !status.ok()) {
    return FromGrpcStatus(status);
  }
  out << FormatServerMetadata(metadata);
  return kExitOk;
}

absl::StatusOr<int> Models(const Options& options, GRPCInferenceService::StubInterface& stub,
                           std::ostream& out) {
  grpc::ClientContext context;
  SetDeadline(context, options);
  inference::RepositoryIndexResponse index;
  if (grpc::Status status = stub.RepositoryIndex(&context, {}, &index); !status.ok()) {
    return FromGrpcStatus(status);
  }
  out << FormatRepositoryIndex(index);
  return kExitOk;
}

absl::StatusOr<int> Devices(const Options& options, edgeserve::EdgeServe::StubInterface& stub, std::ostream& out) {
  grpc::ClientContext context;
  SetDeadline(context, options);
  edgeserve::DeviceListResponse devices;
  if (grpc::Status status = stub.DeviceList(&context, {}, &devices); !status.ok()) {
    return FromGrpcStatus(status);
  }
  out << FormatDevices(devices);
  return kExitOk;
}

// Calls a per-model RPC (ModelMetadata, ModelConfig, ModelStatistics) for
// options.model and options.version.
template <typename Request, typename Response>
absl::StatusOr<Response> CallForModel(const Options& options, GRPCInferenceService::StubInterface& stub,
                                      grpc::Status (GRPCInferenceService::StubInterface::*method)(
                                          grpc::ClientContext*, const Request&, Response*)) {
  grpc::ClientContext context;
  SetDeadline(context, options);
  Request request;
  request.set_name(options.model);
  request.set_version(options.version);
  Response response;
  if (grpc::Status status = (stub.*method)(&context, request, &response); !status.ok()) {
    return FromGrpcStatus(status);
  }
  return response;
}

absl::StatusOr<inference::ModelMetadataResponse> FetchMetadata(
    const Options& options, GRPCInferenceService::StubInterface& stub) {
  return CallForModel(options, stub, &GRPCInferenceService::StubInterface::ModelMetadata);
}

absl::StatusOr<int> Metadata(const Options& options, GRPCInferenceService::StubInterface& stub,
                             std::ostream& out) {
  absl::StatusOr<inference::ModelMetadataResponse> metadata = FetchMetadata(options, stub);
  if (!metadata.ok()) return metadata.status();
  out << FormatModelMetadata(*metadata);
  return kExitOk;
}

absl::StatusOr<int> Config(const Options& options, GRPCInferenceService::StubInterface& stub,
                           std::ostream& out) {
  absl::StatusOr<inference::ModelConfigResponse> response =
      CallForModel(options, stub, &GRPCInferenceService::StubInterface::ModelConfig);
  if (!response.ok()) return response.status();
  out << FormatModelConfig(response->config());
  return kExitOk;
}

absl::StatusOr<int> Stats(const Options& options, GRPCInferenceService::StubInterface& stub,
                          std::ostream& out) {
  absl::StatusOr<inference::ModelStatisticsResponse> statistics =
      CallForModel(options, stub, &GRPCInferenceService::StubInterface::ModelStatistics);
  if (!statistics.ok()) return statistics.status();
  out << FormatModelStatistics(*statistics);
  return kExitOk;
}

absl::StatusOr<int> Infer(const Options& options, GRPCInferenceService::StubInterface& stub,
                          std::ostream& out) {
  absl::StatusOr<inference::ModelMetadataResponse> metadata = FetchMetadata(options, stub);
  if (!metadata.ok()) return metadata.status();
  std::mt19937_64 rng(std::random_device{}());
  absl::StatusOr<inference::ModelInferRequest> request =
      BuildInferRequest(options, *metadata, rng, out);
  if (!request.ok()) return request.status();

  grpc::ClientContext context;
  SetDeadline(context, options);
  inference::ModelInferResponse response;
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = stub.ModelInfer(&context, *request, &response);
  const std::chrono::duration<double, std::milli> round_trip =
      std::chrono::steady_clock::now() - start;
  if (!status.ok()) return FromGrpcStatus(status);

  out << "model: " << response.model_name() << (response.model_version().empty() ? "" : " version ")
      << response.model_version() << "\n"
      << "id: " << (response.id().empty() ? "(none)" : response.id()) << "\n"
      << absl::StrFormat("round trip: %.3f ms\n", round_trip.count());
  if (!options.save_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.save_dir, error);
    if (error) {
      return absl::ErrnoToStatus(error.value(),
                                 absl::StrCat("cannot create '", options.save_dir, "'"));
    }
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& output = response.outputs(i);
    absl::StatusOr<core::DataType> datatype = ParseDatatype(output.datatype());
    if (!datatype.ok()) {
      out << "output " << output.name() << ": " << output.datatype() << " "
          << FormatShape({output.shape().begin(), output.shape().end()}) << "\n"
          << "  values: not shown: " << datatype.status().message() << "\n";
      continue;
    }
    absl::StatusOr<core::Tensor> tensor = OutputTensor(response, i, *datatype);
    if (!tensor.ok()) return tensor.status();
    out << FormatTensor(output.name(), *tensor);
    if (!options.save_dir.empty()) {
      const std::string path =
          (std::filesystem::path(options.save_dir) / OutputFileName(output.name())).string();
      if (absl::Status saved = WriteNpyFile(path, *tensor); !saved.ok()) return saved;
      out << "  saved: " << path << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::StatusOr<inference::ModelInferRequest> BuildInferRequest(
    const Options& options, const inference::ModelMetadataResponse& metadata, std::mt19937_64& rng,
    std::ostream& out) {
  for (const InputFile& file : options.inputs) {
    const bool declared = std::any_of(metadata.inputs().begin(), metadata.inputs().end(),
                                      [&](const auto& input) { return input.name() == file.name; });
    if (!declared) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", metadata.name(), "' has no input '", file.name,
                       "' (its inputs: ", Names(metadata.inputs()), ")"));
    }
  }
  for (const std::string& name : options.outputs) {
    const bool declared = std::any_of(metadata.outputs().begin(), metadata.outputs().end(),
                                      [&](const auto& output) { return output.name() == name; });
    if (!declared) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", metadata.name(), "' has no output '", name,
                       "' (its outputs: ", Names(metadata.outputs()), ")"));
    }
  }

  // Written to `out` only once every input is ready, so that a bad file does
  // not leave a half list of inputs above the error.
  std::ostringstream origins;
  inference::ModelInferRequest request;
  request.set_model_name(options.model);
  request.set_model_version(options.version);
  request.set_id(options.id);
  for (const auto& declared : metadata.inputs()) {
    absl::StatusOr<core::DataType> datatype = ParseDatatype(declared.datatype());
    if (!datatype.ok()) {
      return absl::Status(
          datatype.status().code(),
          absl::StrCat("input '", declared.name(), "': ", datatype.status().message()));
    }
    const auto file = std::find_if(options.inputs.begin(), options.inputs.end(),
                                   [&](const InputFile& f) { return f.name == declared.name(); });
    absl::StatusOr<core::Tensor> tensor;
    std::string origin;
    if (file != options.inputs.end()) {
      tensor = ReadNpyFile(file->path);
      if (!tensor.ok()) return tensor.status();
      if (tensor->datatype != *datatype) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", declared.name(), "': ", file->path, " holds ",
                         core::DataTypeName(tensor->datatype), " data, the model expects ",
                         declared.datatype()));
      }
      origin = absl::StrCat("from ", file->path);
    } else if (!options.random) {
      return absl::InvalidArgumentError(absl::StrCat("input '", declared.name(), "' has no data: give --input ",
                                                     declared.name(), "=FILE.npy, or --random to fill the inputs "
                                                     "not given"));
    } else {
      tensor = RandomTensor(
          *datatype,
          ResolveShape({declared.shape().begin(), declared.shape().end()}, options.batch), rng);
      if (!tensor.ok()) {
        return absl::Status(tensor.status().code(), absl::StrCat("input '", declared.name(),
                                                                 "': ", tensor.status().message()));
      }
      origin = "random";
    }
    origins << "input " << declared.name() << ": " << declared.datatype() << " "
            << FormatShape(tensor->shape) << " " << origin << "\n";
    auto* input = request.add_inputs();
    input->set_name(declared.name());
    input->set_datatype(declared.datatype());
    input->mutable_shape()->Add(tensor->shape.begin(), tensor->shape.end());
    request.add_raw_input_contents(std::move(tensor->data));
  }
  for (const std::string& name : options.outputs) request.add_outputs()->set_name(name);
  out << origins.str();
  return request;
}

absl::StatusOr<core::Tensor> OutputTensor(const inference::ModelInferResponse& response, int index,
                                          core::DataType datatype) {
  const auto& output = response.outputs(index);
  if (absl::Status supported = CheckSupported(datatype); !supported.ok()) return supported;
  core::Tensor tensor;
  tensor.datatype = datatype;
  tensor.shape.assign(output.shape().begin(), output.shape().end());
  absl::StatusOr<int64_t> count = CheckedElementCount(tensor.shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", output.name(), "': ", count.status().message()));
  }
  if (!response.raw_output_contents().empty()) {
    if (response.raw_output_contents_size() != response.outputs_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the response has ", response.outputs_size(), " outputs but ",
                       response.raw_output_contents_size(), " raw_output_contents"));
    }
    tensor.data = response.raw_output_contents(index);
  } else {
    absl::StatusOr<std::string> data = TypedContents(output.contents(), datatype);
    if (!data.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", output.name(), "': ", data.status().message()));
    }
    tensor.data = *std::move(data);
  }
  const size_t element_size = core::DataTypeSize(datatype);
  if (static_cast<uint64_t>(*count) > tensor.data.size() / element_size ||
      static_cast<size_t>(*count) * element_size != tensor.data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", output.name(), "': ", core::DataTypeName(datatype), " ",
                     FormatShape(tensor.shape), " needs ", *count, " elements, the response holds ",
                     tensor.data.size() / element_size, " (", tensor.data.size(), " bytes)"));
  }
  return tensor;
}

std::string OutputFileName(absl::string_view output_name) {
  std::string name(output_name);
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      c = '_';
    }
  }
  return name + ".npy";
}

absl::StatusOr<int> RunCommand(const Options& options, const Stubs& stubs, std::ostream& out) {
  GRPCInferenceService::StubInterface& stub = stubs.inference;
  switch (options.command) {
    case Command::kHealth:
      return Health(options, stub, out);
    case Command::kServer:
      return Server(options, stub, out);
    case Command::kModels:
      return Models(options, stub, out);
    case Command::kDevices:
      return Devices(options, stubs.edgeserve, out);
    case Command::kMetadata:
      return Metadata(options, stub, out);
    case Command::kConfig:
      return Config(options, stub, out);
    case Command::kStats:
      return Stats(options, stub, out);
    case Command::kInfer:
      return Infer(options, stub, out);
    case Command::kHelp:
      out << Usage();
      return kExitOk;
  }
  return kExitOk;
}

}  // namespace edgeserve::cli
