// The one place where internal errors become gRPC statuses.
#pragma once

#include <cstddef>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace edgeserve::server {

// absl and gRPC share the canonical codes, so the code carries over as it is
// and the message a user should read goes with it, clipped to
// kMaxStatusMessageBytes: messages quote what clients sent, and gRPC sends the
// message percent-encoded in a trailer, which clients refuse beyond 8 KB.
inline constexpr size_t kMaxStatusMessageBytes = 2048;
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace edgeserve::server
