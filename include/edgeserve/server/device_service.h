// edgeserve.EdgeServe: the devices extension, on gRPC's callback API.
#pragma once

#include "edgeserve.grpc.pb.h"
#include "edgeserve/hal/accelerators.h"

namespace edgeserve::server {

// Reads its request and writes its response itself, as InferenceService
// does, so that a request gRPC could not parse gets a clear INVALID_ARGUMENT.
class DeviceService final
    : public edgeserve::EdgeServe::WithRawCallbackMethod_DeviceList<edgeserve::EdgeServe::Service> {
 public:
  // `accelerators` must be the options the daemon discovered its devices with.
  explicit DeviceService(hal::AcceleratorOptions accelerators) : accelerators_(std::move(accelerators)) {}

  grpc::ServerUnaryReactor* DeviceList(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;

 private:
  const hal::AcceleratorOptions accelerators_;
};

}  // namespace edgeserve::server
