#include "edgeserve/server/wire_messages.h"

#include <google/protobuf/stubs/logging.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"

namespace edgeserve::server {

absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* request) {
  grpc::ByteBuffer readable(raw);  // Deserialize consumes its buffer; this copy shares the slices
  if (!grpc::SerializationTraits<google::protobuf::Message>::Deserialize(&readable, request).ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the request is not a valid ", request->GetTypeName(),
                                                   ": its protobuf encoding cannot be parsed"));
  }
  return absl::OkStatus();
}

absl::Status SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* raw) {
  bool own_buffer = false;
  const grpc::Status status =
      grpc::SerializationTraits<google::protobuf::Message>::Serialize(response, raw, &own_buffer);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot encode the ", response.GetTypeName(), ": ", status.error_message()));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void ForwardProtobufLogs() {
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
        static core::LogThrottle throttle(10);
        uint64_t suppressed = 0;
        if (!throttle.Admit(&suppressed)) return;
        const std::string text = absl::StrCat(core::ClipForDisplay(message, core::kMaxLoggedMessageBytes), " (", file,
                                              ":", line, ")", core::SuppressedNote(suppressed));
        auto logger = core::Logger("protobuf");
        if (level >= google::protobuf::LOGLEVEL_ERROR) {
          logger->warn("{}", text);
        } else {
          logger->info("{}", text);
        }
      });
}

}  // namespace edgeserve::server
