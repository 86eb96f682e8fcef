// edgeserve.EdgeServe: the devices extension, on gRPC's callback API.
#pragma once

#include "edgeserve.grpc.pb.h"
#include "edgeserve/hal/accelerators.h"

namespace edgeserve::server {

class DeviceService final : public edgeserve::EdgeServe::CallbackService {
 public:
  // `accelerators` must be the options the daemon discovered its devices with.
  explicit DeviceService(hal::AcceleratorOptions accelerators) : accelerators_(std::move(accelerators)) {}

  grpc::ServerUnaryReactor* DeviceList(grpc::CallbackServerContext* context, const edgeserve::DeviceListRequest*,
                                       edgeserve::DeviceListResponse* response) override;

 private:
  const hal::AcceleratorOptions accelerators_;
};

}  // namespace edgeserve::server
