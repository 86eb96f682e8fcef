#include "bench_server.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace edgeserve::bench {
namespace {

// The daemon's default server.max_message_bytes.
constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace

BenchServer::~BenchServer() { Shutdown(); }

void BenchServer::Shutdown() {
  if (server_ == nullptr) return;
  server_->Shutdown();
  server_->Wait();
  server_.reset();
}

absl::Status BenchServer::Listen(const std::string& address, std::unique_ptr<grpc::Service> service,
                                 absl::string_view name) {
  service_ = std::move(service);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    return absl::UnavailableError(absl::StrCat(name, ": cannot listen on ", address));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* BareService::ServerLive(grpc::CallbackServerContext* context,
                                                  const inference::ServerLiveRequest* request,
                                                  inference::ServerLiveResponse* response) {
  response->set_live(true);
  return Finish(context);
}

grpc::ServerUnaryReactor* BareService::ServerReady(grpc::CallbackServerContext* context,
                                                   const inference::ServerReadyRequest* request,
                                                   inference::ServerReadyResponse* response) {
  response->set_ready(true);
  return Finish(context);
}

grpc::ServerUnaryReactor* BareService::Finish(grpc::CallbackServerContext* context, const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

}  // namespace edgeserve::bench
