#include "host_tensor.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {
namespace {

TEST(CliHostTensorTest, ParsesEveryProtocolDatatypeWithItsSize) {
  const std::vector<std::pair<std::string, size_t>> expected = {
      {"BOOL", 1},  {"UINT8", 1}, {"INT8", 1}, {"INT16", 2}, {"INT32", 4},
      {"INT64", 8}, {"FP16", 2},  {"FP32", 4}, {"FP64", 8}};
  for (const auto& [name, size] : expected) {
    absl::StatusOr<core::DataType> datatype = ParseDatatype(name);
    ASSERT_TRUE(datatype.ok()) << name;
    EXPECT_EQ(core::DataTypeName(*datatype), name);
    EXPECT_EQ(core::DataTypeSize(*datatype), size) << name;
  }
}

TEST(CliHostTensorTest, RefusesBytesSayingSo) {
  absl::StatusOr<core::DataType> datatype = ParseDatatype("BYTES");
  ASSERT_FALSE(datatype.ok());
  EXPECT_EQ(datatype.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(Contains(datatype.status().message(), "BYTES is not supported"));
  EXPECT_EQ(CheckSupported(core::DataType::kBytes).code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(CheckSupported(core::DataType::kFp32).ok());
}

TEST(CliHostTensorTest, RefusesUnknownDatatype) {
  absl::StatusOr<core::DataType> datatype = ParseDatatype("fp32");
  ASSERT_FALSE(datatype.ok());
  EXPECT_TRUE(Contains(datatype.status().message(), "'fp32'"));
}

TEST(CliHostTensorTest, OnlyFloatingTypesAreFloating) {
  EXPECT_TRUE(IsFloating(core::DataType::kFp16));
  EXPECT_TRUE(IsFloating(core::DataType::kFp32));
  EXPECT_TRUE(IsFloating(core::DataType::kFp64));
  EXPECT_FALSE(IsFloating(core::DataType::kInt64));
  EXPECT_FALSE(IsFloating(core::DataType::kBool));
}

TEST(CliHostTensorTest, CountsElements) {
  EXPECT_EQ(CheckedElementCount({}).value(), 1);
  EXPECT_EQ(CheckedElementCount({3}).value(), 3);
  EXPECT_EQ(CheckedElementCount({2, 3}).value(), 6);
  EXPECT_EQ(CheckedElementCount({4, 0, 5}).value(), 0);
}

TEST(CliHostTensorTest, RefusesNegativeAndOverflowingShapes) {
  absl::StatusOr<int64_t> negative = CheckedElementCount({-1, 3});
  ASSERT_FALSE(negative.ok());
  EXPECT_TRUE(Contains(negative.status().message(), "[-1, 3]"));
  absl::StatusOr<int64_t> overflowing = CheckedElementCount({int64_t{1} << 40, int64_t{1} << 40});
  ASSERT_FALSE(overflowing.ok());
  EXPECT_TRUE(Contains(overflowing.status().message(), "too many elements"));
}

TEST(CliHostTensorTest, PrintsShapesWithSpaces) {
  EXPECT_EQ(FormatShape({}), "[]");
  EXPECT_EQ(FormatShape({-1, 3, 224, 224}), "[-1, 3, 224, 224]");
}

TEST(CliHostTensorTest, PrintsElements) {
  core::Tensor integers{core::DataType::kInt64, {2}, Bytes<int64_t>({-9007199254740993, 4})};
  EXPECT_EQ(ElementToString(integers, 0), "-9007199254740993");  // exact, beyond double
  core::Tensor flags{core::DataType::kBool, {2}, Bytes<uint8_t>({1, 0})};
  EXPECT_EQ(ElementToString(flags, 0), "true");
  EXPECT_EQ(ElementToString(flags, 1), "false");
  core::Tensor bytes{core::DataType::kInt8, {1}, Bytes<int8_t>({-3})};
  EXPECT_EQ(ElementToString(bytes, 0), "-3");
  core::Tensor halves{core::DataType::kFp16, {1}, Bytes<uint16_t>({0x3e00})};
  EXPECT_EQ(ElementToString(halves, 0), "1.5");
  EXPECT_EQ(ElementAsDouble(halves, 0), 1.5);
  core::Tensor floats{core::DataType::kFp32, {1}, Bytes<float>({0.125f})};
  EXPECT_EQ(ElementToString(floats, 0), "0.125");
}

}  // namespace
}  // namespace edgeserve::cli
