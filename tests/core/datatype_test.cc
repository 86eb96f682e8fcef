#include "edgeserve/core/datatype.h"

#include <string>
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

}  // namespace
}  // namespace edgeserve::core
