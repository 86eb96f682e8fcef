#include "npy.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {
namespace {

// A .npy file as NumPy lays it out: magic, version, little-endian header
// length (2 bytes for 1.0, 4 for 2.0 and 3.0), header, data.
std::string NpyFile(int major, absl::string_view header, absl::string_view data) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  const size_t width = major == 1 ? 2 : 4;
  for (size_t i = 0; i < width; ++i) {
    out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  }
  out.append(header.data(), header.size());
  out.append(data.data(), data.size());
  return out;
}

struct RoundTripCase {
  core::DataType datatype;
  std::string descr;
  std::string data;
};

class CliNpyRoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(CliNpyRoundTripTest, SerializeThenParseGivesTheSameTensor) {
  const RoundTripCase& param = GetParam();
  core::Tensor tensor;
  tensor.datatype = param.datatype;
  tensor.shape = {2,
                  static_cast<int64_t>(param.data.size() / core::DataTypeSize(param.datatype) / 2)};
  tensor.data = param.data;

  absl::StatusOr<std::string> bytes = SerializeNpy(tensor);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(Contains(*bytes, "'descr': '" + param.descr + "'"));
  // NumPy aligns the start of the data to 64 bytes.
  EXPECT_EQ((bytes->size() - tensor.data.size()) % 64, 0u);

  absl::StatusOr<core::Tensor> parsed = ParseNpy(*bytes, "round_trip.npy");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->datatype, tensor.datatype);
  EXPECT_EQ(parsed->shape, tensor.shape);
  EXPECT_EQ(parsed->data, tensor.data);
}

INSTANTIATE_TEST_SUITE_P(
    EveryDatatype, CliNpyRoundTripTest,
    ::testing::Values(
        RoundTripCase{core::DataType::kBool, "|b1", Bytes<uint8_t>({1, 0, 0, 1})},
        RoundTripCase{core::DataType::kUint8, "|u1", Bytes<uint8_t>({0, 7, 200, 255})},
        RoundTripCase{core::DataType::kInt8, "|i1", Bytes<int8_t>({-128, -1, 0, 127})},
        RoundTripCase{core::DataType::kInt16, "<i2", Bytes<int16_t>({-32768, -2, 3, 32767})},
        RoundTripCase{core::DataType::kInt32, "<i4", Bytes<int32_t>({-5, 0, 6, 2147483647})},
        RoundTripCase{core::DataType::kInt64, "<i8", Bytes<int64_t>({-1, 0, 1, int64_t{1} << 62})},
        RoundTripCase{core::DataType::kFp16, "<f2",
                      Bytes<uint16_t>({0x3c00, 0xc000, 0x0001, 0x7bff})},
        RoundTripCase{core::DataType::kFp32, "<f4",
                      Bytes<float>({1.5f, -2.25f, 0.0f, 1e30f, 3, 4})},
        RoundTripCase{core::DataType::kFp64, "<f8", Bytes<double>({1e-300, -0.5})}));

TEST(CliNpyTest, SerializeMatchesNumpyByteForByte) {
  // np.save of np.arange(6, dtype='<f4').reshape(2, 3), NumPy 1.24.
  const std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') + "\n";
  ASSERT_EQ(header.size(), 118u);
  const std::string data = Bytes<float>({0, 1, 2, 3, 4, 5});
  core::Tensor tensor{core::DataType::kFp32, {2, 3}, data};
  absl::StatusOr<std::string> bytes = SerializeNpy(tensor);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, NpyFile(1, header, data));
}

TEST(CliNpyTest, ParsesScalarShape) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (), }   \n", "\x01"),
               "scalar.npy");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->datatype, core::DataType::kBool);
  EXPECT_TRUE(tensor->shape.empty());
  EXPECT_EQ(tensor->data, "\x01");
}

TEST(CliNpyTest, ParsesOneDimensionalShape) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n",
                       Bytes<int64_t>({1, 2, 3})),
               "vector.npy");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->datatype, core::DataType::kInt64);
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{3}));
}

TEST(CliNpyTest, ParsesVersion2HeaderWithFourByteLength) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
                       Bytes<float>({1, 2, 3, 4, 5, 6})),
               "v2.npy");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->datatype, core::DataType::kFp32);
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(tensor->data, Bytes<float>({1, 2, 3, 4, 5, 6}));
}

TEST(CliNpyTest, ParsesVersion3Header) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(3, "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }\n",
                       Bytes<int32_t>({9})),
               "v3.npy");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->datatype, core::DataType::kInt32);
}

TEST(CliNpyTest, AcceptsOtherKeyOrderDoubleQuotesAndPython2Longs) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<f8\"}\n",
                       Bytes<double>({1, 2})),
               "old.npy");
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  EXPECT_EQ(tensor->datatype, core::DataType::kFp64);
  EXPECT_EQ(tensor->shape, (std::vector<int64_t>{2, 1}));
}

TEST(CliNpyTest, RejectsFortranOrderNamingTheFile) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n",
                       Bytes<float>({1, 2, 3, 4})),
               "images.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(tensor.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(tensor.status().message(), "images.npy"));
  EXPECT_TRUE(Contains(tensor.status().message(), "Fortran-order"));
}

TEST(CliNpyTest, RejectsBigEndianNamingTheFile) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n",
                       std::string(4, '\0')),
               "be.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "be.npy"));
  EXPECT_TRUE(Contains(tensor.status().message(), "big-endian"));
  EXPECT_TRUE(Contains(tensor.status().message(), ">f4"));
}

TEST(CliNpyTest, RejectsUnsupportedDtype) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }\n",
                       std::string(8, '\0')),
               "complex.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "complex.npy: dtype '<c8' is not supported"));
}

TEST(CliNpyTest, RejectsStructuredDtype) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n",
                       std::string(4, '\0')),
               "record.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "structured dtypes are not supported"));
}

TEST(CliNpyTest, RejectsDataShorterThanTheShape) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n",
                       Bytes<float>({1, 2, 3, 4, 5})),
               "short.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "short.npy"));
  EXPECT_TRUE(Contains(tensor.status().message(), "(6 elements)"));
  EXPECT_TRUE(Contains(tensor.status().message(), "20 bytes of data (5 elements)"));
}

TEST(CliNpyTest, RejectsDataLongerThanTheShape) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }\n",
                       Bytes<int16_t>({1, 2, 3})),
               "long.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "(2 elements)"));
}

TEST(CliNpyTest, RejectsMissingMagic) {
  absl::StatusOr<core::Tensor> tensor = ParseNpy("PK\x03\x04 this is a zip", "archive.npz");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "archive.npz: not a .npy file"));
}

TEST(CliNpyTest, RejectsUnknownVersion) {
  absl::StatusOr<core::Tensor> tensor = ParseNpy(NpyFile(4, "{}", ""), "future.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "version 4.0 is not supported"));
}

TEST(CliNpyTest, RejectsTruncatedHeader) {
  std::string bytes = NpyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n", "");
  bytes.resize(bytes.size() - 10);
  absl::StatusOr<core::Tensor> tensor = ParseNpy(bytes, "cut.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "cut.npy: truncated .npy header"));
}

TEST(CliNpyTest, RejectsHeaderWithoutShape) {
  absl::StatusOr<core::Tensor> tensor =
      ParseNpy(NpyFile(1, "{'descr': '<f4', 'fortran_order': False}\n", ""), "noshape.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "malformed .npy header"));
  EXPECT_TRUE(Contains(tensor.status().message(), "'shape'"));
}

TEST(CliNpyTest, RejectsMalformedShape) {
  absl::StatusOr<core::Tensor> tensor = ParseNpy(
      NpyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2; 3), }\n", ""), "bad.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_TRUE(Contains(tensor.status().message(), "bad.npy: malformed .npy header"));
}

TEST(CliNpyTest, SerializeRejectsDataThatDoesNotMatchTheShape) {
  core::Tensor tensor{core::DataType::kInt32, {3}, Bytes<int32_t>({1, 2})};
  absl::StatusOr<std::string> bytes = SerializeNpy(tensor);
  ASSERT_FALSE(bytes.ok());
  EXPECT_TRUE(Contains(bytes.status().message(), "needs 12 bytes, has 8"));
}

TEST(CliNpyTest, WritesAndReadsFiles) {
  const std::string path = ::testing::TempDir() + "/edgeserve_cli_npy_test.npy";
  core::Tensor tensor{core::DataType::kInt16, {2, 2}, Bytes<int16_t>({1, -2, 3, -4})};
  ASSERT_TRUE(WriteNpyFile(path, tensor).ok());
  absl::StatusOr<core::Tensor> read = ReadNpyFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->datatype, tensor.datatype);
  EXPECT_EQ(read->shape, tensor.shape);
  EXPECT_EQ(read->data, tensor.data);
  std::remove(path.c_str());
}

TEST(CliNpyTest, ReadingAMissingFileNamesIt) {
  absl::StatusOr<core::Tensor> tensor = ReadNpyFile("/nonexistent/edgeserve/input.npy");
  ASSERT_FALSE(tensor.ok());
  EXPECT_EQ(tensor.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(tensor.status().message(), "/nonexistent/edgeserve/input.npy"));
}

}  // namespace
}  // namespace edgeserve::cli
