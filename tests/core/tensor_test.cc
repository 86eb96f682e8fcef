#include "edgeserve/core/tensor.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace edgeserve::core {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(ElementCountTest, EmptyShapeIsOneScalar) { EXPECT_EQ(ElementCount({}), 1); }

TEST(ElementCountTest, MultipliesDimensions) {
  EXPECT_EQ(ElementCount({7}), 7);
  EXPECT_EQ(ElementCount({2, 3, 4}), 24);
  EXPECT_EQ(ElementCount({1, 3, 224, 224}), 150528);
}

TEST(ElementCountTest, ZeroDimensionGivesZero) {
  EXPECT_EQ(ElementCount({0}), 0);
  EXPECT_EQ(ElementCount({5, 0, 7}), 0);
  // A zero ahead of huge dimensions is still zero, not an overflow.
  EXPECT_EQ(ElementCount({0, kMax, kMax}), 0);
}

TEST(ElementCountTest, NegativeDimensionGivesMinusOne) {
  EXPECT_EQ(ElementCount({-1}), -1);
  EXPECT_EQ(ElementCount({-1, 16}), -1);
  EXPECT_EQ(ElementCount({16, -1}), -1);
  EXPECT_EQ(ElementCount({2, -5, 3}), -1);
  EXPECT_EQ(ElementCount({0, -1}), -1);
  EXPECT_EQ(ElementCount({std::numeric_limits<int64_t>::min()}), -1);
}

TEST(ElementCountTest, LargestProductsThatFitAreExact) {
  EXPECT_EQ(ElementCount({kMax}), kMax);
  EXPECT_EQ(ElementCount({1, kMax, 1}), kMax);
  EXPECT_EQ(ElementCount({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
}

TEST(ElementCountTest, OverflowGivesMinusOne) {
  EXPECT_EQ(ElementCount({kMax, 2}), -1);
  EXPECT_EQ(ElementCount({2, kMax}), -1);
  EXPECT_EQ(ElementCount({int64_t{1} << 32, int64_t{1} << 32}), -1);
  EXPECT_EQ(ElementCount({int64_t{1} << 62, 2}), -1);  // exactly 2^63: one past the maximum
  EXPECT_EQ(ElementCount({int64_t{1} << 31, int64_t{1} << 31, 2}), -1);
  EXPECT_EQ(ElementCount({3037000500, 3037000500}), -1);  // just above sqrt(2^63)
  EXPECT_EQ(ElementCount({3037000499, 3037000499}), int64_t{3037000499} * 3037000499);
}

TEST(ShapeToStringTest, BracketsAndCommasWithoutSpaces) {
  EXPECT_EQ(ShapeToString({}), "[]");
  EXPECT_EQ(ShapeToString({5}), "[5]");
  EXPECT_EQ(ShapeToString({1, 3, 224, 224}), "[1,3,224,224]");
  EXPECT_EQ(ShapeToString({-1, 16}), "[-1,16]");
  EXPECT_EQ(ShapeToString({kMax, 0}), "[9223372036854775807,0]");
}

TEST(CopyIntoPaddedTest, EveryElementKeepsItsIndexAndThePaddingIsLeftAlone) {
  // Source [2, 2, 3] holding 1..12, into a destination [4, 3, 4] of '.' at row 1.
  std::string source;
  for (char c = 1; c <= 12; ++c) source.push_back(c);
  std::string destination(4 * 3 * 4, '.');
  CopyIntoPadded(source, {2, 2, 3}, 1, {4, 3, 4}, 1, destination.data());
  std::string expected(4 * 3 * 4, '.');
  for (int row = 0; row < 2; ++row) {
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) expected[((row + 1) * 3 + i) * 4 + j] = static_cast<char>(1 + row * 6 + i * 3 + j);
    }
  }
  EXPECT_EQ(destination, expected);
}

TEST(CopyIntoPaddedTest, WideElementsAndRankOne) {
  const int32_t values[] = {7, 8, 9};
  std::string destination(5 * sizeof(int32_t), '\0');
  CopyIntoPadded(absl::string_view(reinterpret_cast<const char*>(values), sizeof(values)), {3}, sizeof(int32_t), {5}, 2,
                 destination.data());
  int32_t copied[5];
  std::memcpy(copied, destination.data(), sizeof(copied));
  EXPECT_EQ(copied[0], 0);
  EXPECT_EQ(copied[1], 0);
  EXPECT_EQ(copied[2], 7);
  EXPECT_EQ(copied[4], 9);

  // Same shapes: a plain copy.
  std::string same(3 * sizeof(int32_t), '\0');
  CopyIntoPadded(absl::string_view(reinterpret_cast<const char*>(values), sizeof(values)), {1, 3}, sizeof(int32_t),
                 {1, 3}, 0, same.data());
  EXPECT_EQ(0, std::memcmp(same.data(), values, sizeof(values)));
}

}  // namespace
}  // namespace edgeserve::core
