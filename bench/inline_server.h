// The hand-written server baseline (`inline-server`): an
// inference.GRPCInferenceService on the callback API that runs the model's
// forward on gRPC's own thread, the least a C++ server can do between a
// request and its answer. The daemon may not work that way (its forwards run
// on its own workers, behind a queue, so that it can batch, meet deadlines
// and never stall gRPC), so classifier-on-edgeserve divided by this server is
// what that design costs, and this server divided by the torch loop is what
// any gRPC server costs on the box.
//
// Free of LibTorch on purpose, as torch_loop.h is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench_server.h"
#include "torch_loop.h"

namespace edgeserve::bench {

struct InlineServerOptions {
  std::string model_file;
  // The one input of one request, batch first. ModelMetadata declares it
  // as INPUT0 with the batch as -1, and any request whose shape has as many
  // elements as its bytes say is run.
  std::vector<int64_t> shape;
  std::string datatype = "FP32";
  int threads = 1;  // at::set_num_threads on every gRPC thread that runs a forward
  ModuleForm form = ModuleForm::kAuto;
};

class InlineServer : public BenchServer {
 public:
  // Loads the model (as the torch loop does, `form` included) and listens on
  // `address` ("127.0.0.1:0" picks a free port) with the daemon's message
  // size limit. One forward runs at a time, as on one model instance.
  static absl::StatusOr<std::unique_ptr<InlineServer>> Start(const std::string& address,
                                                             const InlineServerOptions& options);

  // Which form of the module serves, and why ("frozen and optimised (auto: ...)").
  const std::string& module_form() const { return module_form_; }

 private:
  InlineServer() = default;

  std::string module_form_;
};

}  // namespace edgeserve::bench
