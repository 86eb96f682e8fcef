// The bare gRPC baseline: an inference.GRPCInferenceService on the callback
// API that does no work beyond the protocol. ModelMetadata describes the same
// tensors as the daemon's identity model (FP32 INPUT0 -> OUTPUT0, shape
// [-1,16]) and ModelInfer copies each input to an output, so
// identity-on-edgeserve divided by this server is what edgeserve's own work
// costs around a model.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench_server.h"

namespace edgeserve::bench {

class EchoServer : public BenchServer {
 public:
  // Listens on `address` ("127.0.0.1:0" picks a free port). A raw input
  // longer than `max_reply_bytes` comes back cut to that many bytes (whole
  // elements, shape [elements]): a model whose output is smaller than its
  // input, such as the classifier's 602 KB in and 4 KB out, then has its
  // round trip on bare gRPC to compare with.
  static absl::StatusOr<std::unique_ptr<EchoServer>> Start(const std::string& address,
                                                           size_t max_reply_bytes = std::numeric_limits<size_t>::max());

 private:
  EchoServer() = default;
};

}  // namespace edgeserve::bench
