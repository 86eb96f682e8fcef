#include "edgeserve/core/datatype.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace edgeserve::core {
namespace {

struct NamedType {
  DataType type;
  const char* name;
  size_t size;
};

const std::vector<NamedType>& AllTypes() {
  static const std::vector<NamedType> types = {
      {DataType::kBool, "BOOL", 1},   {DataType::kUint8, "UINT8", 1}, {DataType::kInt8, "INT8", 1},
      {DataType::kInt16, "INT16", 2}, {DataType::kInt32, "INT32", 4}, {DataType::kInt64, "INT64", 8},
      {DataType::kFp16, "FP16", 2},   {DataType::kFp32, "FP32", 4},   {DataType::kFp64, "FP64", 8},
      {DataType::kBytes, "BYTES", 0},
  };
  return types;
}

TEST(DataTypeTest, NameOfEveryTypeIsTheProtocolName) {
  for (const NamedType& entry : AllTypes()) {
    EXPECT_EQ(DataTypeName(entry.type), entry.name);
  }
}

TEST(DataTypeTest, EveryNameParsesBackToItsType) {
  for (const NamedType& entry : AllTypes()) {
    const std::optional<DataType> parsed = DataTypeFromName(entry.name);
    ASSERT_TRUE(parsed.has_value()) << entry.name;
    EXPECT_EQ(*parsed, entry.type) << entry.name;
    EXPECT_EQ(DataTypeName(*DataTypeFromName(DataTypeName(entry.type))), entry.name);
  }
}

TEST(DataTypeTest, SizesAreBytesPerElementAndZeroForBytes) {
  for (const NamedType& entry : AllTypes()) {
    EXPECT_EQ(DataTypeSize(entry.type), entry.size) << entry.name;
  }
}

TEST(DataTypeTest, UnknownNamesAreRejected) {
  for (const char* name : {"", "fp32", "Fp32", "FLOAT", "FP32 ", " FP32", "UINT16", "UINT32", "UINT64", "BF16",
                           "STRING", "INT"}) {
    EXPECT_FALSE(DataTypeFromName(name).has_value()) << "'" << name << "'";
  }
}

TEST(DataTypeTest, NamesListsExactlyTheAcceptedNames) {
  std::vector<std::string> listed = absl::StrSplit(DataTypeNames(), ", ");
  std::vector<std::string> expected;
  for (const NamedType& entry : AllTypes()) expected.emplace_back(entry.name);
  EXPECT_THAT(listed, ::testing::UnorderedElementsAreArray(expected));
  for (const std::string& name : listed) EXPECT_TRUE(DataTypeFromName(name).has_value()) << name;
}

TEST(DataTypeTest, ConvertsHalfPrecision) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(0.5f), 0x3800);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -26)), 0x0000);  // underflows to zero
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);                   // overflows to infinity
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()), 0xfc00);
  // Ties round to even: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(FloatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);

  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(0x8000), -0.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(0x7c00)));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
}

template <typename T>
T Decoded(const absl::StatusOr<std::string>& bytes) {
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  T value{};
  if (bytes.ok() && bytes->size() == sizeof(T)) std::memcpy(&value, bytes->data(), sizeof(T));
  EXPECT_EQ(bytes.ok() ? bytes->size() : 0, sizeof(T));
  return value;
}

TEST(DataTypeTest, ScalarBytesHoldsTheValueInTheTypesOwnLayout) {
  EXPECT_EQ(Decoded<uint8_t>(ScalarBytes(DataType::kBool, 1)), 1);
  EXPECT_EQ(Decoded<uint8_t>(ScalarBytes(DataType::kUint8, 255)), 255);
  EXPECT_EQ(Decoded<int8_t>(ScalarBytes(DataType::kInt8, -128)), -128);
  EXPECT_EQ(Decoded<int16_t>(ScalarBytes(DataType::kInt16, -2)), -2);
  EXPECT_EQ(Decoded<int32_t>(ScalarBytes(DataType::kInt32, 100000)), 100000);
  EXPECT_EQ(Decoded<int64_t>(ScalarBytes(DataType::kInt64, -9007199254740992.0)), -9007199254740992);
  EXPECT_EQ(Decoded<uint16_t>(ScalarBytes(DataType::kFp16, -2)), 0xc000);
  EXPECT_EQ(Decoded<float>(ScalarBytes(DataType::kFp32, 0.5)), 0.5f);
  EXPECT_EQ(Decoded<double>(ScalarBytes(DataType::kFp64, -1e300)), -1e300);
}

TEST(DataTypeTest, ScalarBytesRefusesWhatTheTypeCannotHold) {
  for (const auto& [type, value] : std::vector<std::pair<DataType, double>>{
           {DataType::kBool, 2},
           {DataType::kUint8, -1},
           {DataType::kUint8, 256},
           {DataType::kInt8, 0.5},
           {DataType::kInt16, 40000},
           {DataType::kInt32, std::nan("")},
           {DataType::kInt64, 9223372036854775808.0},
           {DataType::kBytes, 0},
           {DataType::kFp16, 65536},
           {DataType::kFp32, 1e39},
       }) {
    const absl::StatusOr<std::string> bytes = ScalarBytes(type, value);
    EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument) << DataTypeName(type) << " " << value;
  }
  EXPECT_EQ(ScalarBytes(DataType::kUint8, 256).status().message(), "256 is not a UINT8 value");
  EXPECT_EQ(ScalarBytes(DataType::kFp16, 1e5).status().message(), "100000 is beyond the range of FP16");
  EXPECT_EQ(Decoded<uint16_t>(ScalarBytes(DataType::kFp16, 65504)), 0x7bff);
  EXPECT_EQ(Decoded<float>(ScalarBytes(DataType::kFp32, -INFINITY)), -INFINITY);
}

}  // namespace
}  // namespace edgeserve::core
