#include "random_tensor.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {
namespace {

TEST(CliResolveShapeTest, VariableFirstDimensionBecomesTheBatch) {
  EXPECT_EQ(ResolveShape({-1, 3, 224, 224}, 8), (std::vector<int64_t>{8, 3, 224, 224}));
}

TEST(CliResolveShapeTest, OtherVariableDimensionsBecomeOne) {
  EXPECT_EQ(ResolveShape({-1, -1, 4, -1}, 2), (std::vector<int64_t>{2, 1, 4, 1}));
  EXPECT_EQ(ResolveShape({5, -1}, 2), (std::vector<int64_t>{5, 1}));
}

TEST(CliResolveShapeTest, FixedShapesAreUnchanged) {
  EXPECT_EQ(ResolveShape({}, 4), std::vector<int64_t>{});
  EXPECT_EQ(ResolveShape({2, 3}, 4), (std::vector<int64_t>{2, 3}));
}

TEST(CliRandomTensorTest, SizesMatchShapeAndDatatype) {
  std::mt19937_64 rng(1);
  for (core::DataType datatype :
       {core::DataType::kBool, core::DataType::kUint8, core::DataType::kInt8,
        core::DataType::kInt16, core::DataType::kInt32, core::DataType::kInt64,
        core::DataType::kFp16, core::DataType::kFp32, core::DataType::kFp64}) {
    absl::StatusOr<core::Tensor> tensor = RandomTensor(datatype, {2, 3, 5}, rng);
    ASSERT_TRUE(tensor.ok()) << core::DataTypeName(datatype);
    EXPECT_EQ(tensor->datatype, datatype);
    EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 3, 5}));
    EXPECT_EQ(tensor->data.size(), 30 * core::DataTypeSize(datatype))
        << core::DataTypeName(datatype);
  }
}

TEST(CliRandomTensorTest, ScalarHasOneElement) {
  std::mt19937_64 rng(1);
  absl::StatusOr<core::Tensor> tensor = RandomTensor(core::DataType::kFp64, {}, rng);
  ASSERT_TRUE(tensor.ok());
  EXPECT_EQ(tensor->data.size(), 8u);
}

TEST(CliRandomTensorTest, ValuesStayInTheirRanges) {
  std::mt19937_64 rng(7);
  const std::vector<int64_t> shape = {1000};
  for (core::DataType datatype :
       {core::DataType::kFp16, core::DataType::kFp32, core::DataType::kFp64}) {
    absl::StatusOr<core::Tensor> tensor = RandomTensor(datatype, shape, rng);
    ASSERT_TRUE(tensor.ok());
    double sum = 0;
    for (int64_t i = 0; i < 1000; ++i) {
      const double value = ElementAsDouble(*tensor, i);
      ASSERT_GE(value, 0.0) << core::DataTypeName(datatype);
      ASSERT_LT(value, 1.0) << core::DataTypeName(datatype);
      sum += value;
    }
    // Not a constant: a mean far from 0.5 would mean a broken generator.
    EXPECT_NEAR(sum / 1000, 0.5, 0.1) << core::DataTypeName(datatype);
  }
  absl::StatusOr<core::Tensor> flags = RandomTensor(core::DataType::kBool, shape, rng);
  ASSERT_TRUE(flags.ok());
  int ones = 0;
  for (char byte : flags->data) {
    ASSERT_TRUE(byte == 0 || byte == 1);
    ones += byte;
  }
  EXPECT_GT(ones, 0);
  EXPECT_LT(ones, 1000);
  for (core::DataType datatype : {core::DataType::kInt8, core::DataType::kInt16,
                                  core::DataType::kInt32, core::DataType::kInt64}) {
    absl::StatusOr<core::Tensor> indices = RandomTensor(datatype, shape, rng);
    ASSERT_TRUE(indices.ok());
    for (int64_t i = 0; i < 1000; ++i) {
      const double value = ElementAsDouble(*indices, i);
      ASSERT_GE(value, 0.0) << core::DataTypeName(datatype);
      ASSERT_LE(value, 9.0) << core::DataTypeName(datatype);
    }
  }
}

TEST(CliRandomTensorTest, SameSeedSameData) {
  std::mt19937_64 first(42);
  std::mt19937_64 second(42);
  EXPECT_EQ(RandomTensor(core::DataType::kFp32, {16}, first)->data,
            RandomTensor(core::DataType::kFp32, {16}, second)->data);
}

TEST(CliRandomTensorTest, RefusesTensorsBeyondAGrpcMessage) {
  std::mt19937_64 rng(1);
  absl::StatusOr<core::Tensor> tensor =
      RandomTensor(core::DataType::kFp32, {1024, 1024, 1024}, rng);
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "2 GiB"));
}

TEST(CliRandomTensorTest, RefusesNegativeDimensions) {
  std::mt19937_64 rng(1);
  EXPECT_FALSE(RandomTensor(core::DataType::kFp32, {-1, 3}, rng).ok());
}

TEST(CliRandomTensorTest, RefusesBytes) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(RandomTensor(core::DataType::kBytes, {3}, rng).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace edgeserve::cli
