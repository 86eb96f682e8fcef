// edgeserve-cli: query and exercise an edgeserve daemon over its gRPC API.
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli_commands.h"
#include "cli_options.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace cli = edgeserve::cli;

int main(int argc, char** argv) {
  absl::StatusOr<cli::Options> options =
      cli::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    std::cerr << "error: " << options.status().message() << "\n\n" << cli::Usage();
    return cli::kExitUsage;
  }
  grpc::ChannelArguments channel_arguments;
  // Outputs such as segmentation masks easily exceed gRPC's 4 MiB default.
  channel_arguments.SetMaxReceiveMessageSize(-1);
  const auto channel =
      grpc::CreateCustomChannel(options->url, grpc::InsecureChannelCredentials(), channel_arguments);
  const auto inference_stub = inference::GRPCInferenceService::NewStub(channel);
  const auto edgeserve_stub = edgeserve::EdgeServe::NewStub(channel);
  absl::StatusOr<int> exit_status =
      cli::RunCommand(*options, cli::Stubs{*inference_stub, *edgeserve_stub}, std::cout);
  if (!exit_status.ok()) {
    std::cerr << "error: " << absl::StatusCodeToString(exit_status.status().code()) << ": "
              << exit_status.status().message() << "\n";
    return cli::kExitError;
  }
  return *exit_status;
}
