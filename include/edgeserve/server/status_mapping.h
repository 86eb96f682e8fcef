// The one place where internal errors become gRPC statuses.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace edgeserve::server {

// absl and gRPC share the canonical codes, so the code carries over as it is
// and the message a user should read goes with it.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace edgeserve::server
