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

// A 1 MB model name quoted in NOT_FOUND would not fit the 8 KB of trailers a
// client accepts, and the client would see RESOURCE_EXHAUSTED instead.
TEST(ToGrpcStatusTest, LongMessagesKeepTheirHeadAndTail) {
  const std::string message = "model '" + std::string(1 << 20, 'a') + "' not found in the repository";
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError(message));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes + 64);
  EXPECT_EQ(status.error_message().rfind("model 'aaa", 0), 0u) << status.error_message().substr(0, 40);
  EXPECT_NE(status.error_message().find("bytes left out"), std::string::npos);
  EXPECT_NE(status.error_message().find("aaa' not found in the repository"), std::string::npos);
}

}  // namespace
}  // namespace edgeserve::server
