// The command line of edgeserve-cli: what the user asked for, validated
// before any connection is made.
#ifndef EDGESERVE_CLI_CLI_OPTIONS_H_
#define EDGESERVE_CLI_CLI_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeserve::cli {

enum class Command { kHelp, kHealth, kServer, kModels, kDevices, kMetadata, kConfig, kStats, kInfer };

// One `--input NAME=FILE.npy`.
struct InputFile {
  std::string name;
  std::string path;
};

struct Options {
  Command command = Command::kHelp;
  std::string url = "localhost:8001";
  int64_t timeout_ms = 10000;
  std::string model;    // required by metadata, config and infer; empty for stats means every model
  std::string version;  // empty: the server's choice
  std::vector<InputFile> inputs;
  bool random = false;
  int64_t batch = 1;
  std::vector<std::string> outputs;  // empty: every output
  std::string id;
  std::string save_dir;
};

// Parses the arguments after the program name. Options may come before or
// after the command. An error is a usage error: its message says what is
// wrong, and the caller prints it together with Usage().
absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args);

absl::string_view Usage();

}  // namespace edgeserve::cli

#endif  // EDGESERVE_CLI_CLI_OPTIONS_H_
