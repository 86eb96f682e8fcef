#include "cli_options.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edgeserve::cli {
namespace {

constexpr absl::string_view kUsage =
    R"(usage: edgeserve-cli [--url HOST:PORT] [--timeout-ms N] <command> [args]

Talks to an edgeserve daemon (or any KServe v2 / Open Inference Protocol
gRPC server).

commands:
  health                         server liveness and readiness; exit 0 if ready, 1 if not
  server                         server name, version and extensions
  models                         the models of the repository with their state
  devices                        the devices the daemon can place models on (edgeserve only)
  metadata MODEL [--version V]   platform, versions, inputs and outputs of a model
  config MODEL [--version V]     the model's configuration as Triton's model_config JSON
  stats [MODEL] [--version V]    inference statistics of one model or of all
  infer MODEL [options]          run one inference and print the outputs

infer options:
  --version V              model version (default: the server's choice)
  --input NAME=FILE.npy    take input NAME from a .npy file (repeatable)
  --random                 fill every input not given by --input with random data
  --batch N                first dimension of random inputs whose first dimension
                           is variable (default 1); other variable dimensions get 1
  --output NAME            request only this output (repeatable; default: all)
  --id ID                  request id, echoed by the server
  --save-dir DIR           write each output to DIR/NAME.npy

global options:
  --url HOST:PORT          server address (default localhost:8001)
  --timeout-ms N           deadline of each call in milliseconds (default 10000)
  -h, --help               print this help

.npy inputs must be C-order and little-endian, of dtype bool, uint8, int8,
int16, int32, int64, float16, float32 or float64. BYTES tensors are not
supported.

exit status: 0 success, 1 server not ready (health), 2 error, 64 usage error
)";

struct CommandSpec {
  absl::string_view name;
  Command command;
  size_t min_operands;
  size_t max_operands;
};

constexpr CommandSpec kCommands[] = {
    {"health", Command::kHealth, 0, 0}, {"server", Command::kServer, 0, 0},
    {"models", Command::kModels, 0, 0}, {"metadata", Command::kMetadata, 1, 1},
    {"stats", Command::kStats, 0, 1},   {"infer", Command::kInfer, 1, 1},
    {"devices", Command::kDevices, 0, 0}, {"config", Command::kConfig, 1, 1},
};

// Which commands accept an option.
enum class Scope { kAll, kModelCommands, kInfer };

bool InScope(Scope scope, Command command) {
  switch (scope) {
    case Scope::kAll:
      return true;
    case Scope::kModelCommands:
      return command == Command::kMetadata || command == Command::kConfig || command == Command::kStats ||
             command == Command::kInfer;
    case Scope::kInfer:
      return command == Command::kInfer;
  }
  return false;
}

struct OptionSpec {
  absl::string_view name;
  bool takes_value;
  Scope scope;
};

constexpr OptionSpec kOptions[] = {
    {"--url", true, Scope::kAll},
    {"--timeout-ms", true, Scope::kAll},
    {"--version", true, Scope::kModelCommands},
    {"--input", true, Scope::kInfer},
    {"--random", false, Scope::kInfer},
    {"--batch", true, Scope::kInfer},
    {"--output", true, Scope::kInfer},
    {"--id", true, Scope::kInfer},
    {"--save-dir", true, Scope::kInfer},
};

struct GivenOption {
  const OptionSpec* spec;
  std::string value;
};

absl::Status UsageError(absl::string_view message) { return absl::InvalidArgumentError(message); }

absl::StatusOr<int64_t> PositiveInteger(absl::string_view option, absl::string_view value) {
  int64_t number = 0;
  if (!absl::SimpleAtoi(value, &number) || number < 1) {
    return UsageError(absl::StrCat(option, " needs a positive integer, got '", value, "'"));
  }
  return number;
}

absl::Status Apply(const GivenOption& given, Options& options) {
  const absl::string_view name = given.spec->name;
  const std::string& value = given.value;
  if (name == "--url") {
    if (value.empty()) return UsageError("--url needs HOST:PORT");
    options.url = value;
  } else if (name == "--timeout-ms") {
    absl::StatusOr<int64_t> timeout = PositiveInteger(name, value);
    if (!timeout.ok()) return timeout.status();
    // A longer deadline overflows gRPC's clock and expires at once.
    constexpr int64_t kWeekMs = int64_t{7} * 24 * 3600 * 1000;
    if (*timeout > kWeekMs) {
      return UsageError(absl::StrCat("--timeout-ms: at most ", kWeekMs, " (a week), got '", value, "'"));
    }
    options.timeout_ms = *timeout;
  } else if (name == "--version") {
    options.version = value;
  } else if (name == "--input") {
    const size_t equals = value.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == value.size()) {
      return UsageError(absl::StrCat("--input needs NAME=FILE.npy, got '", value, "'"));
    }
    InputFile input{value.substr(0, equals), value.substr(equals + 1)};
    const bool repeated =
        std::any_of(options.inputs.begin(), options.inputs.end(),
                    [&](const InputFile& other) { return other.name == input.name; });
    if (repeated) return UsageError(absl::StrCat("input '", input.name, "' is given twice"));
    options.inputs.push_back(std::move(input));
  } else if (name == "--random") {
    options.random = true;
  } else if (name == "--batch") {
    absl::StatusOr<int64_t> batch = PositiveInteger(name, value);
    if (!batch.ok()) return batch.status();
    options.batch = *batch;
  } else if (name == "--output") {
    if (value.empty()) return UsageError("--output needs a NAME");
    options.outputs.push_back(value);
  } else if (name == "--id") {
    options.id = value;
  } else if (name == "--save-dir") {
    if (value.empty()) return UsageError("--save-dir needs a DIR");
    options.save_dir = value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseOptions(const std::vector<std::string>& args) {
  std::vector<GivenOption> given;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") return Options{};
    if (!absl::StartsWith(arg, "-")) {
      positional.push_back(arg);
      continue;
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(0, equals);
    const auto spec = std::find_if(std::begin(kOptions), std::end(kOptions),
                                   [&](const OptionSpec& option) { return option.name == name; });
    if (spec == std::end(kOptions)) return UsageError(absl::StrCat("unknown option '", name, "'"));
    if (!spec->takes_value) {
      if (equals != std::string::npos) {
        return UsageError(absl::StrCat(name, " takes no value"));
      }
      given.push_back({&*spec, ""});
    } else if (equals != std::string::npos) {
      given.push_back({&*spec, arg.substr(equals + 1)});
    } else if (i + 1 < args.size()) {
      given.push_back({&*spec, args[++i]});
    } else {
      return UsageError(absl::StrCat(name, " needs a value"));
    }
  }

  if (positional.empty()) return UsageError("missing command");
  const auto command =
      std::find_if(std::begin(kCommands), std::end(kCommands),
                   [&](const CommandSpec& spec) { return spec.name == positional[0]; });
  if (command == std::end(kCommands)) {
    return UsageError(absl::StrCat("unknown command '", positional[0], "'"));
  }
  const size_t operands = positional.size() - 1;
  if (operands < command->min_operands) {
    return UsageError(absl::StrCat("'", command->name, "' needs a MODEL"));
  }
  if (operands > command->max_operands) {
    return UsageError(absl::StrCat("unexpected argument '", positional[command->max_operands + 1],
                                   "' for '", command->name, "'"));
  }

  Options options;
  options.command = command->command;
  if (operands == 1) options.model = positional[1];
  for (const GivenOption& option : given) {
    if (!InScope(option.spec->scope, options.command)) {
      return UsageError(
          absl::StrCat(option.spec->name, " is not an option of '", command->name, "'"));
    }
    if (absl::Status status = Apply(option, options); !status.ok()) return status;
  }
  if (options.command == Command::kInfer && options.inputs.empty() && !options.random) {
    return UsageError("'infer' needs --input NAME=FILE.npy or --random");
  }
  return options;
}

absl::string_view Usage() { return kUsage; }

}  // namespace edgeserve::cli
