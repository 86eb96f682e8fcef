#include "echo_server.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "edgeserve/core/datatype.h"

namespace edgeserve::bench {
namespace {

class EchoService final : public BareService {
 public:
  explicit EchoService(size_t max_reply_bytes) : max_reply_bytes_(max_reply_bytes) {}

  grpc::ServerUnaryReactor* ModelReady(grpc::CallbackServerContext* context,
                                       const inference::ModelReadyRequest* request,
                                       inference::ModelReadyResponse* response) override {
    response->set_ready(true);
    return Finish(context);
  }

  // Every model name is "served", so a client can ask for any name.
  grpc::ServerUnaryReactor* ModelMetadata(grpc::CallbackServerContext* context,
                                          const inference::ModelMetadataRequest* request,
                                          inference::ModelMetadataResponse* response) override {
    response->set_name(request->name());
    response->add_versions("1");
    response->set_platform("echo");
    auto* input = response->add_inputs();
    input->set_name("INPUT0");
    input->set_datatype("FP32");
    input->add_shape(-1);
    input->add_shape(16);
    auto* output = response->add_outputs();
    output->set_name("OUTPUT0");
    output->set_datatype("FP32");
    output->add_shape(-1);
    output->add_shape(16);
    return Finish(context);
  }

  // Input i comes back as output "OUTPUT<i>" in the form it arrived in: raw
  // bytes as raw_output_contents, typed contents as typed contents.
  grpc::ServerUnaryReactor* ModelInfer(grpc::CallbackServerContext* context,
                                       const inference::ModelInferRequest* request,
                                       inference::ModelInferResponse* response) override {
    response->set_model_name(request->model_name());
    response->set_model_version(request->model_version().empty() ? "1" : request->model_version());
    response->set_id(request->id());
    for (int i = 0; i < request->inputs_size(); ++i) {
      const auto& input = request->inputs(i);
      auto* output = response->add_outputs();
      output->set_name(absl::StrCat("OUTPUT", i));
      output->set_datatype(input.datatype());
      *output->mutable_shape() = input.shape();
      if (input.has_contents()) *output->mutable_contents() = input.contents();
    }
    // Only the bytes sent back are copied, so a cut answer costs no more than its size.
    for (int i = 0; i < request->raw_input_contents_size(); ++i) {
      const std::string& raw = request->raw_input_contents(i);
      if (raw.size() <= max_reply_bytes_ || i >= response->outputs_size()) {
        response->add_raw_output_contents(raw);
        continue;
      }
      const std::optional<core::DataType> datatype = core::DataTypeFromName(response->outputs(i).datatype());
      const size_t element = datatype.has_value() ? std::max<size_t>(core::DataTypeSize(*datatype), 1) : 1;
      const size_t kept = max_reply_bytes_ / element * element;
      response->add_raw_output_contents(raw.data(), kept);
      auto* shape = response->mutable_outputs(i)->mutable_shape();
      shape->Clear();
      shape->Add(static_cast<int64_t>(kept / element));
    }
    return Finish(context);
  }

 private:
  const size_t max_reply_bytes_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EchoServer>> EchoServer::Start(const std::string& address, size_t max_reply_bytes) {
  std::unique_ptr<EchoServer> echo(new EchoServer());
  if (absl::Status listening = echo->Listen(address, std::make_unique<EchoService>(max_reply_bytes), "echo server");
      !listening.ok()) {
    return listening;
  }
  return echo;
}

}  // namespace edgeserve::bench
