#include "inline_server.h"

#include <array>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/datatype.h"
#include "edgeserve/core/tensor.h"
#include "edgeserve/hal/blas_threads.h"
#include "edgeserve/hal/torch_types.h"
#include "infer_request.h"
#include "torch_module.h"

namespace edgeserve::bench {
namespace {

// The protocol's name of a tensor's element type; empty for one it has none for.
std::string ProtocolName(c10::ScalarType type) {
  constexpr std::array<core::DataType, 9> kFixedSize = {
      core::DataType::kBool,  core::DataType::kUint8, core::DataType::kInt8,
      core::DataType::kInt16, core::DataType::kInt32, core::DataType::kInt64,
      core::DataType::kFp16,  core::DataType::kFp32,  core::DataType::kFp64};
  for (core::DataType datatype : kFixedSize) {
    if (hal::ToScalarType(datatype) == type) return std::string(core::DataTypeName(datatype));
  }
  return "";
}

class InlineService final : public BareService {
 public:
  InlineService(torch::jit::Module module, const InlineServerOptions& options, core::DataType datatype)
      : module_(std::move(module)), options_(options), datatype_(datatype) {}

  // Any model name is this model, so a client can ask for the name it knows.
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    response->set_name(request->name());
    response->add_versions("1");
    response->set_platform("inline");
    auto* input = response->add_inputs();
    input->set_name("INPUT0");
    input->set_datatype(options_.datatype);
    input->add_shape(-1);
    for (size_t i = 1; i < options_.shape.size(); ++i) input->add_shape(options_.shape[i]);
    auto* output = response->add_outputs();
    output->set_name("OUTPUT0");
    output->set_datatype("FP32");
    output->add_shape(-1);
    return Finish(context);
  }

  // The forward, here on gRPC's thread; the model's outputs come back in
  // order as OUTPUT0, OUTPUT1, ... in raw_output_contents.
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    return Finish(context, Infer(*request, *response));
  }

 private:
  grpc::Status Infer(const inference::ModelInferRequest& request, inference::ModelInferResponse& response) {
    if (request.inputs_size() != 1 || request.raw_input_contents_size() != 1) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "inline server: send exactly one input, as raw_input_contents"};
    }
    const inference::ModelInferRequest::InferInputTensor& input = request.inputs(0);
    if (input.datatype() != options_.datatype) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("inline server: input datatype ", input.datatype(), ", expected ", options_.datatype)};
    }
    const std::vector<int64_t> shape(input.shape().begin(), input.shape().end());
    const int64_t elements = core::ElementCount(shape);
    const std::string& bytes = request.raw_input_contents(0);
    if (elements < 0 || bytes.size() != static_cast<size_t>(elements) * core::DataTypeSize(datatype_)) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              absl::StrCat("inline server: shape ", core::ShapeToString(shape), " does not match ", bytes.size(),
                           " bytes of ", input.datatype())};
    }
    response.set_model_name(request.model_name());
    response.set_model_version("1");
    response.set_id(request.id());
    std::lock_guard<std::mutex> one_forward_at_a_time(forward_mutex_);
    // gRPC's callback threads are the process's, not this server's: set the
    // count on whichever runs the forward.
    if (at::get_num_threads() != options_.threads) at::set_num_threads(options_.threads);
    c10::Warning::WarningHandlerGuard warnings_guard(&warnings_);
    c10::InferenceMode inference_mode;
    try {
      // The request's bytes are used in place, as the daemon uses them.
      const at::Tensor tensor = torch::from_blob(const_cast<char*>(bytes.data()), shape,
                                                 torch::TensorOptions().dtype(hal::ToScalarType(datatype_)));
      const c10::IValue result = module_.forward({tensor});
      int index = 0;
      ForEachTensor(result, [&](const at::Tensor& tensor) {
        const at::Tensor contiguous = tensor.contiguous();
        auto* output = response.add_outputs();
        output->set_name(absl::StrCat("OUTPUT", index++));
        output->set_datatype(ProtocolName(contiguous.scalar_type()));
        for (int64_t dim : contiguous.sizes()) output->add_shape(dim);
        response.add_raw_output_contents(static_cast<const char*>(contiguous.data_ptr()), contiguous.nbytes());
      });
    } catch (const c10::Error& e) {
      return {grpc::StatusCode::INTERNAL, absl::StrCat("inline server: ", e.what_without_backtrace())};
    } catch (const std::exception& e) {
      return {grpc::StatusCode::INTERNAL, absl::StrCat("inline server: ", e.what())};
    }
    return grpc::Status::OK;
  }

  torch::jit::Module module_;
  const InlineServerOptions options_;
  const core::DataType datatype_;
  std::mutex forward_mutex_;
  CountingWarningHandler warnings_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InlineServer>> InlineServer::Start(const std::string& address,
                                                                  const InlineServerOptions& options) {
  absl::StatusOr<core::DataType> datatype = ParseDatatype(options.datatype);
  if (!datatype.ok()) {
    return absl::Status(datatype.status().code(), absl::StrCat("--datatype: ", datatype.status().message()));
  }
  const int64_t elements = core::ElementCount(options.shape);
  if (options.shape.empty() || elements < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--shape ", core::ShapeToString(options.shape),
                                                   " is empty, has a negative dimension or too many elements"));
  }
  // The warm-up input is zeros, as the daemon's is.
  std::string zeros(static_cast<size_t>(elements) * core::DataTypeSize(*datatype), '\0');

  // Loaded on a short-lived thread, as the daemon loads: a thread that has
  // run LibTorch keeps an idle OpenMP team that would compete with the
  // forwards' own.
  absl::StatusOr<LoadedModule> loaded = absl::UnknownError("not loaded");
  std::thread loader([&] {
    CountingWarningHandler warnings;
    c10::Warning::WarningHandlerGuard warnings_guard(&warnings);
    at::set_num_threads(options.threads);
    hal::LimitBlasToCallingThread();  // as the daemon does
    c10::InferenceMode inference_mode;
    try {
      const at::Tensor input =
          torch::from_blob(zeros.data(), options.shape, torch::TensorOptions().dtype(hal::ToScalarType(*datatype)));
      loaded = LoadInForm(options.model_file, options.form, input);
    } catch (const c10::Error& e) {
      loaded = absl::InternalError(absl::StrCat(options.model_file, ": ", e.what_without_backtrace()));
    } catch (const std::exception& e) {
      loaded = absl::InternalError(absl::StrCat(options.model_file, ": ", e.what()));
    }
  });
  loader.join();
  if (!loaded.ok()) return loaded.status();

  std::unique_ptr<InlineServer> server(new InlineServer());
  server->module_form_ = loaded->form;
  if (absl::Status listening = server->Listen(
          address, std::make_unique<InlineService>(std::move(loaded->module), options, *datatype), "inline server");
      !listening.ok()) {
    return listening;
  }
  return server;
}

}  // namespace edgeserve::bench
