#include "edgeserve/server/status_mapping.h"

#include <string>

#include "edgeserve/core/logging.h"

namespace edgeserve::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      core::ClipForDisplay(status.message(), kMaxStatusMessageBytes));
}

}  // namespace edgeserve::server
