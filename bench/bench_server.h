// What edgeserve-bench's two servers (echo-server, inline-server) share: the
// daemon's message size limit, listening, stopping, and the health RPCs they
// answer alike.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpc_service.grpc.pb.h"

namespace edgeserve::bench {

class BenchServer {
 public:
  virtual ~BenchServer();

  int port() const { return port_; }

  // Stops accepting calls and waits for the ones in flight. Idempotent.
  void Shutdown();

 protected:
  BenchServer() = default;

  // Serves `service` on `address` ("127.0.0.1:0" picks a free port) with the
  // daemon's message size limit, so large tensors behave alike; `name` is
  // for the error.
  absl::Status Listen(const std::string& address, std::unique_ptr<grpc::Service> service, absl::string_view name);

 private:
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// ServerLive and ServerReady always true; reactors finished at once.
class BareService : public inference::GRPCInferenceService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context,
                                       const inference::ServerLiveRequest* request,
                                       inference::ServerLiveResponse* response) override;

  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context,
                                        const inference::ServerReadyRequest* request,
                                        inference::ServerReadyResponse* response) override;

 protected:
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                          const grpc::Status& status = grpc::Status::OK);
};

}  // namespace edgeserve::bench
