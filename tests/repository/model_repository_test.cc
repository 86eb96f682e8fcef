#include "edgeserve/repository/model_repository.h"

#include <fstream>
#include <sstream>
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/fake_executor.h"
#include "test_util/temp_dir.h"

namespace edgeserve::repository {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTestModels[] = EDGESERVE_TEST_MODELS;

std::string TestModel(const std::string& relative) { return std::string(kTestModels) + "/" + relative; }

// One inference through a model's scheduler. The state is shared with the
// completion so that a test giving up on a lost completion leaves nothing
// dangling behind.
struct PendingInference {
  std::string bytes;
  core::InferenceRequest request;
  absl::Notification done;
  absl::StatusOr<std::vector<core::Tensor>> result = absl::UnknownError("not completed");
};

absl::StatusOr<std::vector<core::Tensor>> InferFp32(const LoadedModel& model, const std::string& input_name,
                                                    const std::vector<float>& values, core::Shape shape) {
  auto pending = std::make_shared<PendingInference>();
  pending->bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  core::TensorView view;
  view.name = input_name;
  view.datatype = core::DataType::kFp32;
  view.shape = std::move(shape);
  view.data = pending->bytes;
  pending->request.inputs.push_back(view);
  pending->request.batch_size = model.config.max_batch_size > 0 ? view.shape[0] : 1;
  if (!model.scheduler) return absl::FailedPreconditionError("model has no scheduler");
  model.scheduler->Enqueue(&pending->request, [pending](absl::StatusOr<core::InferenceOutputs> result) {
    pending->result = test_util::SharedOutputs(std::move(result));
    pending->done.Notify();
  });
  if (!pending->done.WaitForNotificationWithTimeout(test_util::kTestDeadline)) {
    return absl::DeadlineExceededError("the inference did not complete");
  }
  return pending->result;
}

std::vector<float> AsFloats(const core::Tensor& tensor) {
  std::vector<float> values(tensor.data.size() / sizeof(float));
  std::memcpy(values.data(), tensor.data.data(), values.size() * sizeof(float));
  return values;
}

std::vector<std::string> Names(const ModelRepository& repository) {
  std::vector<std::string> names;
  for (const auto& model : repository.models()) names.push_back(model->name);
  return names;
}

// The test models directory, loaded once for the whole suite: loading costs
// LibTorch time (the classifier alone takes most of a second).
class TestModelsRepositoryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RepositoryOptions options;
    options.root = kTestModels;
    absl::StatusOr<std::unique_ptr<ModelRepository>> loaded = ModelRepository::Load(options);
    load_status_ = new absl::Status(loaded.status());
    if (loaded.ok()) repository_ = loaded->release();
  }
  static void TearDownTestSuite() {
    if (repository_ != nullptr) repository_->StopAll();
    delete repository_;
    repository_ = nullptr;
    delete load_status_;
    load_status_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(repository_, nullptr) << *load_status_; }

  static std::shared_ptr<const LoadedModel> Model(const std::string& name) {
    std::shared_ptr<const LoadedModel> model = repository_->Find(name);
    EXPECT_NE(model, nullptr) << name;
    return model;
  }

  static ModelRepository* repository_;
  static absl::Status* load_status_;
};

ModelRepository* TestModelsRepositoryTest::repository_ = nullptr;
absl::Status* TestModelsRepositoryTest::load_status_ = nullptr;

TEST_F(TestModelsRepositoryTest, ListsEveryModelFolderSortedByName) {
  const std::vector<std::string> names = Names(*repository_);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_THAT(names, ::testing::IsSupersetOf({"add_sub", "classifier", "corrupt", "dict_outputs", "failing",
                                              "identity", "mismatched", "slow", "versioned"}));
}

TEST_F(TestModelsRepositoryTest, WorkingModelsAreReadyOnTheCpu) {
  for (const char* name : {"add_sub", "classifier", "dict_outputs", "failing", "identity", "slow", "versioned"}) {
    std::shared_ptr<const LoadedModel> model = Model(name);
    if (!model) continue;
    EXPECT_EQ(model->state, ModelState::kReady) << name << ": " << model->reason;
    EXPECT_THAT(model->reason, IsEmpty()) << name;
    ASSERT_EQ(model->instances.size(), 1u) << name;
    EXPECT_EQ(model->instances[0].device, "cpu") << name;
    EXPECT_EQ(model->instances[0].kind, hal::DeviceKind::kCpu) << name;
    EXPECT_EQ(model->instances[0].requested_kind, "AUTO") << name;
    EXPECT_TRUE(model->Serving()) << name;
    ASSERT_NE(model->scheduler, nullptr) << name;
    EXPECT_EQ(model->scheduler->instance_count(), 1u) << name;
    EXPECT_EQ(model->config.name, name);
    EXPECT_NE(model->statistics, nullptr) << name;
  }
  EXPECT_EQ(Model("identity")->version, "1");
  EXPECT_EQ(Model("classifier")->config.optimization, Optimization::kOptimize);
}

TEST_F(TestModelsRepositoryTest, HighestVersionIsServed) {
  std::shared_ptr<const LoadedModel> model = Model("versioned");
  ASSERT_NE(model, nullptr);
  EXPECT_THAT(model->versions, ElementsAre("1", "3"));
  EXPECT_EQ(model->version, "3");
  // Version 3 adds 3 where version 1 adds 1: the served module is version 3's.
  absl::StatusOr<std::vector<core::Tensor>> outputs = InferFp32(*model, "x", {1.0f, -2.5f}, {2});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
  ASSERT_EQ(outputs->size(), 1u);
  EXPECT_THAT(AsFloats((*outputs)[0]), ElementsAre(4.0f, 0.5f));
}

TEST_F(TestModelsRepositoryTest, CorruptModelIsUnavailableWithTheReason) {
  std::shared_ptr<const LoadedModel> model = Model("corrupt");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->state, ModelState::kUnavailable);
  EXPECT_EQ(model->scheduler, nullptr);
  EXPECT_EQ(model->version, "1");
  EXPECT_THAT(model->reason, AllOf(HasSubstr("version 1: "), HasSubstr("corrupt/1/model.pt"),
                                   HasSubstr("not a loadable TorchScript module")));
}

TEST_F(TestModelsRepositoryTest, MismatchedModelIsUnavailableNamingTheShapes) {
  std::shared_ptr<const LoadedModel> model = Model("mismatched");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->state, ModelState::kUnavailable);
  EXPECT_EQ(model->scheduler, nullptr);
  EXPECT_THAT(model->reason, AllOf(HasSubstr("version 1: "), HasSubstr("output 'y'"), HasSubstr("shape [4]"),
                                   HasSubstr("declares [5]")));
}

TEST_F(TestModelsRepositoryTest, FindReturnsTheListedModelOrNull) {
  for (const auto& model : repository_->models()) {
    EXPECT_EQ(repository_->Find(model->name), model) << model->name;
  }
  EXPECT_EQ(repository_->Find("unknown"), nullptr);
  EXPECT_EQ(repository_->Find(""), nullptr);
  EXPECT_EQ(repository_->Find("identit"), nullptr);
  EXPECT_EQ(repository_->Find("identity2"), nullptr);
  EXPECT_EQ(repository_->Find("zzz"), nullptr);
  EXPECT_EQ(repository_->Find("IDENTITY"), nullptr);
}

TEST_F(TestModelsRepositoryTest, NotAllReadyWhileACorruptModelIsPresent) { EXPECT_FALSE(repository_->AllReady()); }

TEST(ModelRepositoryTest, RootThatIsNotADirectoryIsNotFound) {
  test_util::ScratchDir dir;
  for (const std::string& root : {dir.path() + "/absent", dir.WriteFile("file", "x"), std::string()}) {
    RepositoryOptions options;
    options.root = root;
    absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
    EXPECT_EQ(repository.status().code(), absl::StatusCode::kNotFound) << root;
    EXPECT_EQ(repository.status().message(),
              "model repository '" + root + "' is not a directory (repository.path, or --model-repository)");
  }
}

TEST(ModelRepositoryTest, EmptyRootLoadsNoModels) {
  test_util::ScratchDir dir;
  RepositoryOptions options;
  options.root = dir.path();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  EXPECT_THAT((*repository)->models(), IsEmpty());
  EXPECT_EQ((*repository)->Find("identity"), nullptr);
}

TEST(ModelRepositoryTest, VersionsAreOrderedByNumberAndOtherEntriesIgnored) {
  test_util::ScratchDir dir;
  const std::string model_file = TestModel("identity/1/model.pt");
  dir.CopyFile(TestModel("identity/config.yaml"), "identity/config.yaml");
  dir.CopyFile(model_file, "identity/2/model.pt");
  dir.CopyFile(model_file, "identity/10/model.pt");
  dir.MakeDir("identity/latest");             // not a number: not a version
  dir.WriteFile("identity/11", "a file");     // not a folder: not a version
  dir.MakeDir("identity/012");                // not as a client names a version: "12" would not find it
  dir.MakeDir("identity/+13");
  dir.MakeDir(".hidden_model");               // hidden folders are not models
  dir.WriteFile("README.md", "not a model");  // nor are files
  RepositoryOptions options;
  options.root = dir.path();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  EXPECT_THAT(Names(**repository), ElementsAre("identity"));
  std::shared_ptr<const LoadedModel> model = (*repository)->Find("identity");
  ASSERT_NE(model, nullptr);
  EXPECT_THAT(model->versions, ElementsAre("2", "10"));
  EXPECT_EQ(model->version, "10");
  EXPECT_EQ(model->state, ModelState::kReady) << model->reason;
  EXPECT_TRUE((*repository)->AllReady());
}

TEST(ModelRepositoryTest, ACpuGroupWithoutACountFillsTheCoresAndAnExplicitCountIsKept) {
  test_util::ScratchDir dir;
  const std::string model_file = TestModel("identity/1/model.pt");
  const std::string config =
      "platform: torchscript\nmax_batch_size: 8\n"
      "inputs: [{name: INPUT0, datatype: FP32, shape: [16]}]\n"
      "outputs: [{name: OUTPUT0, datatype: FP32, shape: [16]}]\n";
  dir.CopyFile(model_file, "fills/1/model.pt");
  dir.WriteFile("fills/config.yaml", config + "instance_groups: [{kind: CPU}]\n");
  dir.CopyFile(model_file, "two_threads/1/model.pt");
  dir.WriteFile("two_threads/config.yaml", config + "instance_groups: [{kind: CPU, threads: 2}]\n");
  dir.CopyFile(model_file, "counted/1/model.pt");
  dir.WriteFile("counted/config.yaml", config + "instance_groups: [{kind: CPU, count: 1}]\n");
  RepositoryOptions options;
  options.root = dir.path();
  options.intra_op_threads = 1;
  options.cpu_cores = 3;
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  const std::pair<std::string, size_t> expected[] = {{"fills", 3}, {"two_threads", 1}, {"counted", 1}};
  for (const auto& [name, instances] : expected) {
    std::shared_ptr<const LoadedModel> model = (*repository)->Find(name);
    ASSERT_NE(model, nullptr) << name;
    ASSERT_EQ(model->state, ModelState::kReady) << name << ": " << model->reason;
    EXPECT_EQ(model->instances.size(), instances) << name;
    // ModelConfig reports the count the load settled on.
    EXPECT_EQ(model->config.instance_groups[0].count, static_cast<int>(instances)) << name;
  }
}

TEST(ModelRepositoryTest, ConfigAndVersionProblemsMakeModelsUnavailable) {
  test_util::ScratchDir dir;
  dir.CopyFile(TestModel("identity/1/model.pt"), "no_config/1/model.pt");
  dir.CopyFile(TestModel("identity/config.yaml"), "no_version/config.yaml");
  const std::string bad_config = dir.WriteFile("bad_config/config.yaml",
                                               "platform: torchscript\nmax_batch_size: 1000\n"
                                               "inputs: [{name: x, datatype: FP32, shape: [1]}]\n"
                                               "outputs: [{name: y, datatype: FP32, shape: [1]}]\n");
  dir.CopyFile(TestModel("identity/1/model.pt"), "bad_config/1/model.pt");
  RepositoryOptions options;
  options.root = dir.path();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  EXPECT_THAT(Names(**repository), ElementsAre("bad_config", "no_config", "no_version"));
  EXPECT_FALSE((*repository)->AllReady());
  for (const auto& model : (*repository)->models()) {
    EXPECT_EQ(model->state, ModelState::kUnavailable) << model->name;
    EXPECT_EQ(model->scheduler, nullptr) << model->name;
  }
  EXPECT_EQ((*repository)->Find("bad_config")->reason,
            bad_config + ": max_batch_size: must be between 0 and 64, got 1000");
  EXPECT_THAT((*repository)->Find("no_config")->reason,
              AllOf(HasSubstr(dir.path() + "/no_config/config.yaml"), HasSubstr("no such file")));
  EXPECT_THAT((*repository)->Find("no_version")->reason, HasSubstr("no version folder"));
  EXPECT_EQ((*repository)->Find("no_version")->version, "");
}

TEST(ModelRepositoryTest, StopAllRefusesLaterRequests) {
  test_util::ScratchDir dir;
  dir.CopyFile(TestModel("versioned/config.yaml"), "versioned/config.yaml");
  dir.CopyFile(TestModel("versioned/1/model.pt"), "versioned/1/model.pt");
  RepositoryOptions options;
  options.root = dir.path();
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  ASSERT_TRUE(repository.ok()) << repository.status();
  std::shared_ptr<const LoadedModel> model = (*repository)->Find("versioned");
  ASSERT_NE(model, nullptr);
  ASSERT_EQ(model->state, ModelState::kReady) << model->reason;
  absl::StatusOr<std::vector<core::Tensor>> before = InferFp32(*model, "x", {0.0f, 1.0f}, {2});
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_THAT(AsFloats((*before)[0]), ElementsAre(1.0f, 2.0f));
  (*repository)->StopAll();
  absl::StatusOr<std::vector<core::Tensor>> after = InferFp32(*model, "x", {0.0f, 1.0f}, {2});
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(model->statistics->Snapshot().execution_count, 1u);
}

// A repository holding the identity model under `config_tail` appended to
// its own config.
std::unique_ptr<ModelRepository> LoadIdentityWith(test_util::ScratchDir& dir, const std::string& config_tail,
                                                  hal::DeviceInventory devices = RepositoryOptions().devices) {
  std::ifstream in(TestModel("identity/config.yaml"));
  std::stringstream config;
  config << in.rdbuf();
  dir.WriteFile("identity/config.yaml", config.str() + "\n" + config_tail);
  dir.CopyFile(TestModel("identity/1/model.pt"), "identity/1/model.pt");
  RepositoryOptions options;
  options.root = dir.path();
  options.devices = std::move(devices);
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository = ModelRepository::Load(options);
  EXPECT_TRUE(repository.ok()) << repository.status();
  return repository.ok() ? *std::move(repository) : nullptr;
}

TEST(ModelRepositoryPlacementTest, AbsentKindFallsBackVisiblyToTheCpu) {
  test_util::ScratchDir dir;
  hal::DeviceInventory cpu_only = RepositoryOptions().devices;
  cpu_only.absent_reasons[hal::DeviceKind::kCuda] = "LibTorch without CUDA";
  std::unique_ptr<ModelRepository> repository =
      LoadIdentityWith(dir, "instance_groups: [{kind: CUDA, count: 2}]\n", cpu_only);
  ASSERT_NE(repository, nullptr);
  std::shared_ptr<const LoadedModel> model = repository->Find("identity");
  ASSERT_EQ(model->state, ModelState::kReady) << model->reason;
  ASSERT_EQ(model->instances.size(), 2u);
  for (const InstancePlacement& instance : model->instances) {
    EXPECT_EQ(instance.requested_kind, "CUDA");
    EXPECT_EQ(instance.kind, hal::DeviceKind::kCpu);
    EXPECT_EQ(instance.device, "cpu");
    EXPECT_THAT(instance.fallback, AllOf(HasSubstr("CUDA: LibTorch without CUDA"), HasSubstr("NPU: ")));
  }
  EXPECT_EQ(model->scheduler->instance_count(), 2u);
  absl::StatusOr<std::vector<core::Tensor>> outputs = InferFp32(*model, "INPUT0", std::vector<float>(16, 2.0f), {1, 16});
  ASSERT_TRUE(outputs.ok()) << outputs.status();
}

TEST(ModelRepositoryPlacementTest, APlacementWithoutAPresentKindMakesTheModelUnavailable) {
  test_util::ScratchDir dir;
  std::unique_ptr<ModelRepository> repository =
      LoadIdentityWith(dir, "instance_groups: [{kind: CUDA}]\nplacement: [cuda, npu]\n");
  ASSERT_NE(repository, nullptr);
  std::shared_ptr<const LoadedModel> model = repository->Find("identity");
  EXPECT_EQ(model->state, ModelState::kUnavailable);
  // The last kind tried leads, the ones passed over before it follow.
  EXPECT_THAT(model->reason, AllOf(HasSubstr("instance group 0 (CUDA) found no device. NPU: "),
                                   HasSubstr("(passed over before it: CUDA: no CUDA device was found)")));
  EXPECT_TRUE(model->instances.empty());
}

// An NPU the inventory lists but no plugin backs: the module cannot move to
// it, so the group falls back to the next kind with that load error.
TEST(ModelRepositoryPlacementTest, ALoadFailureOnADeviceFallsBackToTheNextKind) {
  test_util::ScratchDir dir;
  hal::DeviceInventory with_npu = RepositoryOptions().devices;
  hal::Device npu;
  npu.kind = hal::DeviceKind::kNpu;
  with_npu.devices.push_back(npu);
  std::unique_ptr<ModelRepository> repository =
      LoadIdentityWith(dir, "instance_groups: [{kind: NPU}]\nplacement: [npu, cpu]\n", with_npu);
  ASSERT_NE(repository, nullptr);
  std::shared_ptr<const LoadedModel> model = repository->Find("identity");
  ASSERT_EQ(model->state, ModelState::kReady) << model->reason;
  ASSERT_EQ(model->instances.size(), 1u);
  EXPECT_EQ(model->instances[0].kind, hal::DeviceKind::kCpu);
  EXPECT_THAT(model->instances[0].fallback, HasSubstr("NPU: npu:0 is not usable: LibTorch has no PrivateUse1 device registered"));
}

TEST(ModelRepositoryPlacementTest, CpuGroupsKeepTheirThreadCounts) {
  test_util::ScratchDir dir;
  std::unique_ptr<ModelRepository> repository =
      LoadIdentityWith(dir, "instance_groups: [{kind: CPU, count: 2, threads: 1}, {kind: CPU, threads: 2}]\n");
  ASSERT_NE(repository, nullptr);
  std::shared_ptr<const LoadedModel> model = repository->Find("identity");
  ASSERT_EQ(model->instances.size(), 3u);
  EXPECT_EQ(model->instances[0].threads, 1);
  EXPECT_EQ(model->instances[1].group, 0);
  EXPECT_EQ(model->instances[2].threads, 2);
  EXPECT_EQ(model->instances[2].group, 1);
  for (const InstancePlacement& instance : model->instances) EXPECT_THAT(instance.fallback, IsEmpty());
}

}  // namespace
}  // namespace edgeserve::repository
