// Requests read, and responses written, by the service itself instead of by
// gRPC's generated handlers. On a request that is not valid protobuf, gRPC's
// callback handlers answer UNIMPLEMENTED with no message, as if the method did
// not exist; here the client learns which message could not be parsed.
#pragma once

#include <utility>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "edgeserve/server/status_mapping.h"

namespace edgeserve::server {

// INVALID_ARGUMENT naming the message type when `raw` does not parse.
absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* request);
absl::Status SerializeResponse(const google::protobuf::Message& response, grpc::ByteBuffer* raw);

// Finishes the call at once with `status` and no response.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context, const absl::Status& status);

// A unary call answered at once: parses the request, lets `handler` fill the
// response (it returns absl::Status), writes it and finishes the call.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeNow(grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,
                                   grpc::ByteBuffer* raw_response, Handler&& handler) {
  Request request;
  Response response;
  absl::Status status = ParseRequest(*raw_request, &request);
  if (status.ok()) status = std::forward<Handler>(handler)(request, &response);
  if (status.ok()) status = SerializeResponse(response, raw_response);
  return FinishNow(context, status);
}

// Sends what protobuf's runtime reports (a string field with invalid UTF-8 in
// a request, say) to the daemon's log, bounded like other lines clients can
// cause, instead of as bare lines on stderr. Call once at start.
void ForwardProtobufLogs();

}  // namespace edgeserve::server
