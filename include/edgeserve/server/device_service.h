// edgeserve.EdgeServe: the devices extension, on gRPC's callback API.
#pragma once

#include "edgeserve.grpc.pb.h"

namespace edgeserve::server {

class DeviceService final : public edgeserve::EdgeServe::CallbackService {
 public:
  grpc::ServerUnaryReactor* DeviceList(grpc::CallbackServerContext* context, const edgeserve::DeviceListRequest*,
                                       edgeserve::DeviceListResponse* response) override;
};

}  // namespace edgeserve::server
