#include "edgeserve/server/status_mapping.h"

#include <string>

#include "gtest/gtest.h"

namespace edgeserve::server {
namespace {

TEST(ToGrpcStatusTest, OkMapsToOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(status.error_message(), "");
}

TEST(ToGrpcStatusTest, EveryCodeCarriesOverWithItsMessage) {
  const std::pair<absl::StatusCode, grpc::StatusCode> codes[] = {
      {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED},
      {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN},
      {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT},
      {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND},
      {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS},
      {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED},
      {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION},
      {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED},
      {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE},
      {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED},
      {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL},
      {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE},
      {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS},
      {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [absl_code, grpc_code] : codes) {
    const std::string message = "input 'images': expected shape [-1,3], got [1,4] (code " +
                                std::to_string(static_cast<int>(absl_code)) + ")";
    const grpc::Status status = ToGrpcStatus(absl::Status(absl_code, message));
    EXPECT_FALSE(status.ok()) << message;
    EXPECT_EQ(status.error_code(), grpc_code) << message;
    EXPECT_EQ(status.error_message(), message);
  }
}

TEST(ToGrpcStatusTest, MessageIsKeptByteForByte) {
  const std::string message = std::string("line one\nline \"two\"\t\xc3\xa9\0end", 26);
  const grpc::Status status = ToGrpcStatus(absl::InternalError(message));
  EXPECT_EQ(status.error_message(), message);
}

}  // namespace
}  // namespace edgeserve::server
