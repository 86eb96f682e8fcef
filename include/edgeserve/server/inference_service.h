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

class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  // `repository` must outlive the service.
  InferenceService(const repository::ModelRepository* repository, ServiceOptions options);

  // ServerReady answers false from here on, so load balancers drain the box
  // while the requests in flight finish.
  void BeginShutdown() { shutting_down_ = true; }

  grpc::ServerUnaryReactor* ServerLive(grpc::CallbackServerContext* context, const inference::ServerLiveRequest*,
                                       inference::ServerLiveResponse* response) override;
  grpc::ServerUnaryReactor* ServerReady(grpc::CallbackServerContext* context, const inference::ServerReadyRequest*,
                                        inference::ServerReadyResponse* response) override;
  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override;
  grpc::ServerUnaryReactor* ServerMetadata(grpc::CallbackServerContext* context,
                                           const inference::ServerMetadataRequest*,
                                           inference::ServerMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override;
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override;
  grpc::ServerUnaryReactor* ModelStatistics(grpc::CallbackServerContext* context,
                                            const inference::ModelStatisticsRequest* request,
                                            inference::ModelStatisticsResponse* response) override;
  grpc::ServerUnaryReactor* ModelConfig(grpc::CallbackServerContext* context,
                                        const inference::ModelConfigRequest* request,
                                        inference::ModelConfigResponse* response) override;
  grpc::ServerUnaryReactor* RepositoryIndex(grpc::CallbackServerContext* context,
                                            const inference::RepositoryIndexRequest* request,
                                            inference::RepositoryIndexResponse* response) override;

 private:
  const repository::ModelRepository* const repository_;
  const ServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace edgeserve::server
