#include "edgeserve/server/wire_messages.h"

#include "gtest/gtest.h"
#include "grpc_service.pb.h"

namespace edgeserve::server {
namespace {

grpc::ByteBuffer BufferOf(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

TEST(WireMessagesTest, AResponseWrittenIsTheRequestReadBack) {
  inference::ModelInferRequest sent;
  sent.set_model_name("identity");
  sent.set_id("request-1");
  sent.add_raw_input_contents(std::string(1 << 20, 'x'));  // spans many slices
  grpc::ByteBuffer raw;
  ASSERT_TRUE(SerializeResponse(sent, &raw).ok());

  inference::ModelInferRequest read;
  ASSERT_TRUE(ParseRequest(raw, &read).ok());
  EXPECT_EQ(read.model_name(), "identity");
  EXPECT_EQ(read.id(), "request-1");
  EXPECT_EQ(read.raw_input_contents(0), sent.raw_input_contents(0));
  // Reading leaves the buffer as it was: gRPC still owns it.
  inference::ModelInferRequest again;
  ASSERT_TRUE(ParseRequest(raw, &again).ok());
  EXPECT_EQ(again.id(), "request-1");
}

TEST(WireMessagesTest, BytesThatAreNotTheMessageAreAnInvalidArgumentNamingIt) {
  inference::ModelMetadataRequest request;
  const absl::Status status = ParseRequest(BufferOf(std::string("\x0a\x20short", 7)), &request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "the request is not a valid inference.ModelMetadataRequest: its protobuf encoding cannot be parsed");

  inference::ModelInferRequest empty_is_valid;  // every field at its default
  EXPECT_TRUE(ParseRequest(BufferOf(""), &empty_is_valid).ok());
}

}  // namespace
}  // namespace edgeserve::server
