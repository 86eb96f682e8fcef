// The Open Inference Protocol (KServe v2) gRPC service on gRPC's callback
// API. Handlers never block: inference is queued on the model's scheduler and
// the reactor is finished from the scheduler's worker.
#pragma once

#include <atomic>
#include <string>

#include "edgeserve/repository/model_repository.h"
#include "grpc_service.grpc.pb.h"

namespace edgeserve::server {

struct ServiceOptions {
  std::string server_name = "edgeserve";
  std::string server_version;
  bool strict_readiness = true;  // ServerReady only when every model is ready
};

// Every method reads its request and writes its response itself
// (wire_messages.h), so that a request gRPC could not parse gets a clear
// INVALID_ARGUMENT.
using RawInferenceService = inference::GRPCInferenceService::WithRawCallbackMethod_ServerLive<
    inference::GRPCInferenceService::WithRawCallbackMethod_ServerReady<
        inference::GRPCInferenceService::WithRawCallbackMethod_ModelReady<
            inference::GRPCInferenceService::WithRawCallbackMethod_ServerMetadata<
                inference::GRPCInferenceService::WithRawCallbackMethod_ModelMetadata<
                    inference::GRPCInferenceService::WithRawCallbackMethod_ModelInfer<
                        inference::GRPCInferenceService::WithRawCallbackMethod_ModelStatistics<
                            inference::GRPCInferenceService::WithRawCallbackMethod_RepositoryIndex<
                                inference::GRPCInferenceService::WithRawCallbackMethod_ModelConfig<
                                    inference::GRPCInferenceService::Service>>>>>>>>>;

class InferenceService final : public RawInferenceService {
 public:
  // `repository` must outlive the service.
  InferenceService(const repository::ModelRepository* repository, ServiceOptions options);

  // ServerReady answers false from here on, so load balancers drain the box
  // while the requests in flight finish.
  void BeginShutdown() { shutting_down_ = true; }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;

 private:
  const repository::ModelRepository* const repository_;
  const ServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace edgeserve::server
