#include "edgeserve/server/inference_service.h"

#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/logging.h"
#include "edgeserve/server/infer_codec.h"
#include "edgeserve/server/model_config_response.h"
#include "edgeserve/server/request_validation.h"
#include "edgeserve/server/status_mapping.h"
#include "edgeserve/server/wire_messages.h"

namespace edgeserve::server {
namespace {

using repository::LoadedModel;
using repository::ModelState;

// The model and version a request names: NOT_FOUND for an unknown model or a
// version that is not the one served.
absl::StatusOr<std::shared_ptr<const LoadedModel>> ResolveModel(const repository::ModelRepository& repository,
                                                                const std::string& name, const std::string& version) {
  if (name.empty()) return absl::NotFoundError("the request names no model: its model name is empty");
  std::shared_ptr<const LoadedModel> model = repository.Find(name);
  if (!model) return absl::NotFoundError(absl::StrCat("model '", name, "' not found in the repository"));
  if (!version.empty() && version != model->version) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' version '", version, "' is not loaded; ",
                                            model->version.empty() ? std::string("no version is served")
                                                                   : absl::StrCat("version ", model->version,
                                                                                  " is served")));
  }
  return model;
}

// As ResolveModel, and UNAVAILABLE with the reason for a model that failed to load.
absl::StatusOr<std::shared_ptr<const LoadedModel>> ResolveReadyModel(const repository::ModelRepository& repository,
                                                                     const std::string& name,
                                                                     const std::string& version) {
  auto model = ResolveModel(repository, name, version);
  if (model.ok() && (*model)->state != ModelState::kReady) {
    return absl::UnavailableError(absl::StrCat("model '", (*model)->name, "' is not ready: ", (*model)->reason));
  }
  return model;
}

uint64_t NanosSince(core::Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(core::Clock::now() - start).count());
}

void FillDuration(const core::DurationStat& from, inference::StatisticDuration* to) {
  to->set_count(from.count);
  to->set_ns(from.ns);
}

void FillSchedulerStatistics(const LoadedModel& model, const core::ModelStatisticsSnapshot& snapshot,
                             edgeserve::SchedulerStatistics* out) {
  const scheduler::BatchingConfig& batching = model.scheduler->batching();
  out->set_mode(std::string(scheduler::BatchingModeName(batching.mode)));
  out->set_latency_target_ms(static_cast<double>(batching.latency_target.count()) / 1000);
  out->set_max_batch_size(static_cast<uint64_t>(model.scheduler->max_batch_rows()));
  out->set_admission_reserve_us(static_cast<double>(model.scheduler->AdmissionReserve().count()) / 1e3);
  for (const scheduler::LatencyEstimate& estimate : model.scheduler->LatencyProfiles()) {
    edgeserve::LatencyEstimate* entry = out->add_latency_profile();
    entry->set_instance(static_cast<uint32_t>(estimate.instance));
    entry->set_batch_size(static_cast<uint64_t>(estimate.batch_size));
    entry->set_mean_us(estimate.mean_us);
    entry->set_deviation_us(estimate.deviation_us);
    entry->set_predicted_us(estimate.predicted_us);
    entry->set_samples(estimate.samples);
  }
  out->set_rejected_queue_full(snapshot.rejected_queue_full);
  out->set_rejected_deadline(snapshot.rejected_deadline);
  out->set_rejected_deadline_after_waiting(snapshot.rejected_deadline_after_waiting);
  out->set_cancelled(snapshot.cancelled);
}

// One ModelInfer call from decoding to the reactor's Finish. It keeps the
// model version alive while the request is queued or running, and the
// request's message, whose bytes the decoded request uses in place.
struct InferCall {
  inference::ModelInferRequest message;
  inference::ModelInferResponse response;
  std::shared_ptr<const LoadedModel> model;
  core::InferenceRequest request;
  grpc::ServerUnaryReactor* reactor = nullptr;
  grpc::ByteBuffer* raw_response = nullptr;
};

// The client's deadline on our clock: gRPC gives it on the system clock, and
// a call without one reports a time centuries away.
core::Clock::time_point ClientDeadline(const grpc::CallbackServerContext& context, core::Clock::time_point received) {
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  if (remaining > std::chrono::hours(24 * 366)) return core::Clock::time_point::max();
  return received + std::chrono::duration_cast<core::Clock::duration>(remaining);
}

void FinishInfer(std::unique_ptr<InferCall> call, absl::StatusOr<core::InferenceOutputs> outputs) {
  const uint64_t duration_ns = NanosSince(call->request.received);
  core::ModelStatistics& statistics = *call->model->statistics;
  if (!outputs.ok()) {
    statistics.RecordFailure(duration_ns);
    call->reactor->Finish(ToGrpcStatus(outputs.status()));
    return;
  }
  EncodeInferOutputs(call->model->config.outputs, call->request, *outputs, &call->response);
  if (absl::Status written = SerializeResponse(call->response, call->raw_response); !written.ok()) {
    statistics.RecordFailure(duration_ns);
    call->reactor->Finish(ToGrpcStatus(written));
    return;
  }
  statistics.RecordSuccess(static_cast<uint64_t>(call->request.batch_size), duration_ns);
  call->reactor->Finish(grpc::Status::OK);
}

}  // namespace

InferenceService::InferenceService(const repository::ModelRepository* repository, ServiceOptions options)
    : repository_(repository), options_(std::move(options)) {}

grpc::ServerUnaryReactor* InferenceService::ServerLive(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw_request,
                                                       grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ServerLiveRequest, inference::ServerLiveResponse>(
      context, raw_request, raw_response,
      [&](const inference::ServerLiveRequest&, inference::ServerLiveResponse* response) -> absl::Status {
        response->set_live(true);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ServerReady(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ServerReadyRequest, inference::ServerReadyResponse>(
      context, raw_request, raw_response,
      [&](const inference::ServerReadyRequest&, inference::ServerReadyResponse* response) -> absl::Status {
        response->set_ready(!shutting_down_ && (!options_.strict_readiness || repository_->AllReady()));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ModelReady(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw_request,
                                                       grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ModelReadyRequest, inference::ModelReadyResponse>(
      context, raw_request, raw_response,
      [&](const inference::ModelReadyRequest& request, inference::ModelReadyResponse* response) -> absl::Status {
        auto model = ResolveModel(*repository_, request.name(), request.version());
        if (!model.ok()) return model.status();
        // A model whose every instance left the rotation is not ready.
        response->set_ready((*model)->Serving() && !shutting_down_);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ServerMetadata(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* raw_request,
                                                           grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ServerMetadataRequest, inference::ServerMetadataResponse>(
      context, raw_request, raw_response,
      [&](const inference::ServerMetadataRequest&, inference::ServerMetadataResponse* response) -> absl::Status {
        response->set_name(options_.server_name);
        response->set_version(options_.server_version);
        response->add_extensions("model_repository");
        response->add_extensions("statistics");
        response->add_extensions("model_configuration");
        response->add_extensions("edgeserve_devices");          // edgeserve.EdgeServe/DeviceList
        response->add_extensions("edgeserve_model_instances");  // ModelMetadataResponse.edgeserve_instances
        response->add_extensions("edgeserve_scheduler");        // ModelStatistics.edgeserve_scheduler
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ModelMetadata(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* raw_request,
                                                          grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ModelMetadataRequest, inference::ModelMetadataResponse>(
      context, raw_request, raw_response,
      [&](const inference::ModelMetadataRequest& request, inference::ModelMetadataResponse* response) -> absl::Status {
        auto model = ResolveReadyModel(*repository_, request.name(), request.version());
        if (!model.ok()) return model.status();
        const LoadedModel& loaded = **model;
        response->set_name(loaded.name);
        response->add_versions(loaded.version);
        response->set_platform(loaded.config.platform);
        auto describe = [&](const core::TensorSpec& spec, inference::ModelMetadataResponse::TensorMetadata* out) {
          out->set_name(spec.name);
          out->set_datatype(std::string(core::DataTypeName(spec.datatype)));
          for (int64_t dim : repository::ClientShape(loaded.config, spec)) out->add_shape(dim);
        };
        for (const auto& input : loaded.config.inputs) describe(input, response->add_inputs());
        for (const auto& output : loaded.config.outputs) describe(output, response->add_outputs());
        const std::vector<scheduler::InstanceHealth> health = loaded.scheduler->Health();
        for (size_t i = 0; i < loaded.instances.size(); ++i) {
          const repository::InstancePlacement& placement = loaded.instances[i];
          edgeserve::ModelInstance* instance = response->add_edgeserve_instances();
          instance->set_group(placement.group);
          instance->set_requested_kind(placement.requested_kind);
          instance->set_kind(std::string(hal::KindName(placement.kind)));
          instance->set_device_index(placement.device_index);
          instance->set_device(placement.device);
          instance->set_threads(placement.threads);
          instance->set_precision(std::string(hal::PrecisionName(loaded.config.precision)));
          instance->set_fallback(placement.fallback);
          if (i < health.size()) {
            instance->set_healthy(health[i].healthy);
            instance->set_health_error(health[i].error);
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ModelConfig(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* raw_request,
                                                        grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ModelConfigRequest, inference::ModelConfigResponse>(
      context, raw_request, raw_response,
      [&](const inference::ModelConfigRequest& request, inference::ModelConfigResponse* response) -> absl::Status {
        auto model = ResolveReadyModel(*repository_, request.name(), request.version());
        if (!model.ok()) return model.status();
        FillModelConfig((*model)->config, response->mutable_config());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::ModelInfer(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* raw_request,
                                                       grpc::ByteBuffer* raw_response) {
  const auto received = core::Clock::now();
  auto call = std::make_unique<InferCall>();
  if (absl::Status parsed = ParseRequest(*raw_request, &call->message); !parsed.ok()) {
    return FinishNow(context, parsed);
  }
  const inference::ModelInferRequest& request = call->message;
  auto model = ResolveReadyModel(*repository_, request.model_name(), request.model_version());
  if (!model.ok()) return FinishNow(context, model.status());
  call->model = *std::move(model);
  call->request.received = received;
  call->request.client_deadline = ClientDeadline(*context, received);
  call->request.cancelled = [context] { return context->IsCancelled(); };
  call->reactor = context->DefaultReactor();
  call->raw_response = raw_response;
  absl::Status status = DecodeInferRequest(request, &call->request);
  if (status.ok()) status = ValidateRequest(call->model->config, &call->request);
  if (!status.ok()) {
    static core::LogThrottle throttle(10);
    if (uint64_t suppressed = 0; throttle.Admit(&suppressed)) {
      core::Logger("server")->warn("model '{}' request '{}' rejected: {}{}", call->model->name,
                                   core::ClipForDisplay(request.id(), core::kMaxLoggedIdBytes),
                                   core::ClipForDisplay(status.message(), core::kMaxLoggedMessageBytes),
                                   core::SuppressedNote(suppressed));
    }
    call->model->statistics->RecordFailure(NanosSince(received));
    call->reactor->Finish(ToGrpcStatus(status));
    return call->reactor;
  }
  call->response.set_model_name(call->model->name);
  call->response.set_model_version(call->model->version);
  call->response.set_id(request.id());
  grpc::ServerUnaryReactor* reactor = call->reactor;
  InferCall* raw_call = call.release();  // owned by the completion from here on
  raw_call->model->scheduler->Enqueue(&raw_call->request, [raw_call](absl::StatusOr<core::InferenceOutputs> outputs) {
    FinishInfer(std::unique_ptr<InferCall>(raw_call), std::move(outputs));
  });
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::ModelStatistics(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* raw_request,
                                                            grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::ModelStatisticsRequest, inference::ModelStatisticsResponse>(
      context, raw_request, raw_response,
      [&](const inference::ModelStatisticsRequest& request,
          inference::ModelStatisticsResponse* response) -> absl::Status {
        std::vector<std::shared_ptr<const LoadedModel>> selected;
        if (request.name().empty()) {
          for (const auto& model : repository_->models()) {
            if (model->state == ModelState::kReady) selected.push_back(model);
          }
        } else {
          auto model = ResolveModel(*repository_, request.name(), request.version());
          if (!model.ok()) return model.status();
          selected.push_back(*std::move(model));
        }
        for (const auto& model : selected) {
          const core::ModelStatisticsSnapshot snapshot = model->statistics->Snapshot();
          auto* stats = response->add_model_stats();
          stats->set_name(model->name);
          stats->set_version(model->version);
          stats->set_last_inference(snapshot.last_inference_ms);
          stats->set_inference_count(snapshot.inference_count);
          stats->set_execution_count(snapshot.execution_count);
          auto* inference_stats = stats->mutable_inference_stats();
          FillDuration(snapshot.success, inference_stats->mutable_success());
          FillDuration(snapshot.fail, inference_stats->mutable_fail());
          FillDuration(snapshot.queue, inference_stats->mutable_queue());
          FillDuration(snapshot.compute_input, inference_stats->mutable_compute_input());
          FillDuration(snapshot.compute_infer, inference_stats->mutable_compute_infer());
          FillDuration(snapshot.compute_output, inference_stats->mutable_compute_output());
          if (model->scheduler) FillSchedulerStatistics(*model, snapshot, stats->mutable_edgeserve_scheduler());
          for (const auto& [batch_size, batch] : snapshot.batches) {
            auto* batch_stats = stats->add_batch_stats();
            batch_stats->set_batch_size(batch_size);
            FillDuration(batch.compute_input, batch_stats->mutable_compute_input());
            FillDuration(batch.compute_infer, batch_stats->mutable_compute_infer());
            FillDuration(batch.compute_output, batch_stats->mutable_compute_output());
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InferenceService::RepositoryIndex(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* raw_request,
                                                            grpc::ByteBuffer* raw_response) {
  return ServeNow<inference::RepositoryIndexRequest, inference::RepositoryIndexResponse>(
      context, raw_request, raw_response,
      [&](const inference::RepositoryIndexRequest& request,
          inference::RepositoryIndexResponse* response) -> absl::Status {
        // As Triton answers: a name would promise a choice of repositories
        // that is not there, so it is refused rather than ignored.
        if (!request.repository_name().empty()) {
          return absl::UnimplementedError(
              absl::StrCat("RepositoryIndex: 'repository_name' ('", request.repository_name(),
                           "') is not supported: edgeserve serves one model repository; leave it empty"));
        }
        for (const auto& model : repository_->models()) {
          const bool ready = model->Serving();
          if (request.ready() && !ready) continue;
          auto* entry = response->add_models();
          entry->set_name(model->name);
          entry->set_version(model->version);
          entry->set_state(ready ? "READY" : "UNAVAILABLE");
          std::string reason = model->reason;
          if (reason.empty() && !ready && model->scheduler) {
            const std::vector<scheduler::InstanceHealth> health = model->scheduler->Health();
            if (!health.empty()) reason = absl::StrCat("no healthy instance: ", health.front().error);
          }
          entry->set_reason(reason);
        }
        return absl::OkStatus();
      });
}

}  // namespace edgeserve::server
