// The commands of edgeserve-cli, run against a GRPCInferenceService stub so
// that tests can point them at an in-process server.
#ifndef EDGESERVE_CLI_CLI_COMMANDS_H_
#define EDGESERVE_CLI_CLI_COMMANDS_H_

#include <ostream>
#include <random>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli_options.h"
#include "edgeserve.grpc.pb.h"
#include "grpc_service.grpc.pb.h"
#include "grpcpp/support/status.h"
#include "host_tensor.h"

namespace edgeserve::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotReady = 1;  // `health` when the server is not ready
inline constexpr int kExitError = 2;
inline constexpr int kExitUsage = 64;

// The daemon's two services: the Open Inference Protocol and edgeserve's own
// extensions (only `devices` uses the latter).
struct Stubs {
  inference::GRPCInferenceService::StubInterface& inference;
  edgeserve::EdgeServe::StubInterface& edgeserve;
};

// Runs options.command, printing its result to `out`. Returns the exit status
// (kExitOk, or kExitNotReady from `health`). An error is either a failed call,
// with the gRPC code and message of the server, or a local problem such as an
// unreadable .npy file; the caller prints it and exits with kExitError.
absl::StatusOr<int> RunCommand(const Options& options, const Stubs& stubs, std::ostream& out);

// The request `infer` sends: inputs in the order the metadata declares them,
// each from its --input file or else random, all as raw_input_contents; the
// --output names as requested outputs. Writes one line per input to `out`
// saying where its data came from.
absl::StatusOr<inference::ModelInferRequest> BuildInferRequest(
    const Options& options, const inference::ModelMetadataResponse& metadata, std::mt19937_64& rng,
    std::ostream& out);

// Output `index` of a response as a tensor of `datatype`, from
// raw_output_contents when the server sent them and from the typed contents
// otherwise; fails when the data does not match the output's shape.
absl::StatusOr<core::Tensor> OutputTensor(const inference::ModelInferResponse& response, int index,
                                          core::DataType datatype);

// The file name `--save-dir` uses for an output: NAME.npy with every
// character other than letters, digits, '.', '_' and '-' replaced by '_', so
// a name can never point outside the directory.
std::string OutputFileName(absl::string_view output_name);

// gRPC and absl share the canonical status codes, so the code carries over.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_CLI_COMMANDS_H_
