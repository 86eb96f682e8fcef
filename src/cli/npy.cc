#include "npy.h"

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeserve::cli {
namespace {

constexpr absl::string_view kMagic = "\x93NUMPY";
// Bytes before the header: magic, major and minor version, and a header
// length of 2 bytes (format 1.0) or 4 bytes (2.0 and 3.0).
constexpr size_t kPreludeV1 = kMagic.size() + 2 + 2;
constexpr size_t kPreludeV2 = kMagic.size() + 2 + 4;
// NumPy pads the header so that the data starts at a multiple of 64 bytes;
// writing the same keeps our files byte-identical to np.save's.
constexpr size_t kHeaderAlignment = 64;

struct NpyDtype {
  core::DataType datatype;
  absl::string_view code;  // the dtype string without its byte-order character
};

constexpr NpyDtype kNpyDtypes[] = {
    {core::DataType::kBool, "b1"},  {core::DataType::kUint8, "u1"}, {core::DataType::kInt8, "i1"},
    {core::DataType::kInt16, "i2"}, {core::DataType::kInt32, "i4"}, {core::DataType::kInt64, "i8"},
    {core::DataType::kFp16, "f2"},  {core::DataType::kFp32, "f4"},  {core::DataType::kFp64, "f8"},
};

std::string NpyDescr(core::DataType datatype) {
  for (const NpyDtype& dtype : kNpyDtypes) {
    if (dtype.datatype == datatype) {
      // NumPy marks single-byte types as having no byte order.
      return absl::StrCat(core::DataTypeSize(datatype) == 1 ? "|" : "<", dtype.code);
    }
  }
  return "";
}

absl::StatusOr<core::DataType> DatatypeFromDescr(absl::string_view descr,
                                                 absl::string_view source) {
  absl::string_view code = descr;
  char byte_order = '|';
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    byte_order = code[0];
    code.remove_prefix(1);
  }
  for (const NpyDtype& dtype : kNpyDtypes) {
    if (dtype.code != code) continue;
    if (byte_order == '>' && core::DataTypeSize(dtype.datatype) > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": big-endian dtype '", descr,
                       "' is not supported; save it little-endian, "
                       "e.g. np.save(path, a.astype(a.dtype.newbyteorder('<')))"));
    }
    return dtype.datatype;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(source, ": dtype '", descr,
                   "' is not supported (supported: bool, uint8, int8, int16, int32, int64, "
                   "float16, float32, float64)"));
}

// A value of the header's Python dict literal. Only the kinds NumPy writes
// are understood: strings, booleans and tuples of integers.
struct HeaderValue {
  std::optional<std::string> text;
  std::optional<bool> flag;
  std::optional<std::vector<int64_t>> dims;
};

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Recursive-descent parser for the header dict, e.g.
// "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
class HeaderParser {
 public:
  HeaderParser(absl::string_view text, absl::string_view source) : text_(text), source_(source) {}

  absl::StatusOr<Header> Parse() {
    Header header;
    bool has_descr = false;
    bool has_fortran_order = false;
    bool has_shape = false;
    if (!Consume('{')) return Error("expected '{'");
    while (!Consume('}')) {
      absl::StatusOr<std::string> key = ParseString();
      if (!key.ok()) return key.status();
      if (!Consume(':')) return Error("expected ':'");
      absl::StatusOr<HeaderValue> value = ParseValue();
      if (!value.ok()) return value.status();
      if (*key == "descr") {
        if (!value->text) return Error("'descr' must be a string");
        header.descr = *value->text;
        has_descr = true;
      } else if (*key == "fortran_order") {
        if (!value->flag) return Error("'fortran_order' must be True or False");
        header.fortran_order = *value->flag;
        has_fortran_order = true;
      } else if (*key == "shape") {
        if (!value->dims) return Error("'shape' must be a tuple of integers");
        header.shape = *value->dims;
        has_shape = true;
      }
      if (!Consume(',')) {
        if (!Consume('}')) return Error("expected ',' or '}'");
        break;
      }
    }
    if (!has_descr || !has_fortran_order || !has_shape) {
      return Error("the header needs the keys 'descr', 'fortran_order' and 'shape'");
    }
    return header;
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": malformed .npy header: ", what,
                                                   " at offset ", pos_, " of \"", text_, "\""));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool ConsumeWord(absl::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }

  absl::StatusOr<std::string> ParseString() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Error("unterminated string");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }

  absl::StatusOr<int64_t> ParseInteger() {
    SkipSpace();
    int64_t value = 0;
    const size_t start = pos_;
    while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const int digit = text_[pos_] - '0';
      if (value > (INT64_MAX - digit) / 10) return Error("dimension too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return Error("expected a non-negative integer");
    // Python 2 wrote long integers with an 'L' suffix.
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
    return value;
  }

  absl::StatusOr<HeaderValue> ParseValue() {
    SkipSpace();
    HeaderValue value;
    if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"')) {
      absl::StatusOr<std::string> text = ParseString();
      if (!text.ok()) return text.status();
      value.text = *std::move(text);
    } else if (ConsumeWord("True")) {
      value.flag = true;
    } else if (ConsumeWord("False")) {
      value.flag = false;
    } else if (Consume('(')) {
      std::vector<int64_t> dims;
      while (!Consume(')')) {
        absl::StatusOr<int64_t> dim = ParseInteger();
        if (!dim.ok()) return dim.status();
        dims.push_back(*dim);
        if (!Consume(',')) {
          if (!Consume(')')) return Error("expected ',' or ')'");
          break;
        }
      }
      value.dims = std::move(dims);
    } else if (pos_ < text_.size() && text_[pos_] == '[') {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": structured dtypes are not supported; save a plain array"));
    } else {
      return Error("expected a string, True, False or a tuple");
    }
    return value;
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
};

uint32_t ReadLittleEndian(absl::string_view bytes, size_t offset, size_t width) {
  uint32_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

void AppendLittleEndian(std::string& out, uint32_t value, size_t width) {
  for (size_t i = 0; i < width; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

// Streams leave their cause in errno; EIO stands in when they did not, so that
// a failure never maps to an OK status.
absl::Status FileError(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno != 0 ? errno : EIO, absl::StrCat(what, " '", path, "'"));
}

std::string ShapeTuple(const std::vector<int64_t>& shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

}  // namespace

absl::StatusOr<core::Tensor> ParseNpy(absl::string_view bytes, absl::string_view source) {
  if (bytes.substr(0, kMagic.size()) != kMagic || bytes.size() < kPreludeV1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a .npy file (missing the \\x93NUMPY magic)"));
  }
  const int major = static_cast<unsigned char>(bytes[kMagic.size()]);
  const int minor = static_cast<unsigned char>(bytes[kMagic.size() + 1]);
  size_t prelude;
  if (major == 1) {
    prelude = kPreludeV1;
  } else if (major == 2 || major == 3) {
    prelude = kPreludeV2;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(source, ": .npy format version ", major, ".",
                                                   minor, " is not supported (1.0 to 3.0)"));
  }
  if (bytes.size() < prelude) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": truncated .npy header"));
  }
  const size_t header_length =
      ReadLittleEndian(bytes, kMagic.size() + 2, prelude - kMagic.size() - 2);
  if (bytes.size() - prelude < header_length) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": truncated .npy header"));
  }
  absl::StatusOr<Header> header =
      HeaderParser(bytes.substr(prelude, header_length), source).Parse();
  if (!header.ok()) return header.status();
  if (header->fortran_order) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": Fortran-order (column-major) arrays are not supported; save a "
                     "C-order array, e.g. np.save(path, np.ascontiguousarray(a))"));
  }
  absl::StatusOr<core::DataType> datatype = DatatypeFromDescr(header->descr, source);
  if (!datatype.ok()) return datatype.status();
  absl::StatusOr<int64_t> count = CheckedElementCount(header->shape);
  if (!count.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", count.status().message()));
  }
  const absl::string_view data = bytes.substr(prelude + header_length);
  const size_t element_size = core::DataTypeSize(*datatype);
  if (static_cast<uint64_t>(*count) > data.size() / element_size ||
      static_cast<size_t>(*count) * element_size != data.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the header declares shape ", ShapeTuple(header->shape), " of '",
                     header->descr, "' (", *count, " elements), but the file holds ", data.size(),
                     " bytes of data (", data.size() / element_size, " elements)"));
  }
  core::Tensor tensor;
  tensor.datatype = *datatype;
  tensor.shape = std::move(header->shape);
  tensor.data = std::string(data);
  return tensor;
}

absl::StatusOr<std::string> SerializeNpy(const core::Tensor& tensor) {
  if (absl::Status supported = CheckSupported(tensor.datatype); !supported.ok()) return supported;
  absl::StatusOr<int64_t> count = CheckedElementCount(tensor.shape);
  if (!count.ok()) return count.status();
  if (static_cast<uint64_t>(*count) * core::DataTypeSize(tensor.datatype) != tensor.data.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        core::DataTypeName(tensor.datatype), " tensor of shape ", FormatShape(tensor.shape),
        " needs ", *count * core::DataTypeSize(tensor.datatype), " bytes, has ",
        tensor.data.size()));
  }
  std::string header =
      absl::StrCat("{'descr': '", NpyDescr(tensor.datatype),
                   "', 'fortran_order': False, 'shape': ", ShapeTuple(tensor.shape), ", }");
  // The header ends in a newline and is padded with spaces before it.
  size_t prelude = kPreludeV1;
  if (header.size() + 1 + kPreludeV1 > 0xffff) prelude = kPreludeV2;
  const size_t unpadded = prelude + header.size() + 1;
  header.append((kHeaderAlignment - unpadded % kHeaderAlignment) % kHeaderAlignment, ' ');
  header.push_back('\n');

  std::string out(kMagic);
  out.push_back(static_cast<char>(prelude == kPreludeV1 ? 1 : 2));
  out.push_back(0);
  AppendLittleEndian(out, static_cast<uint32_t>(header.size()), prelude - kMagic.size() - 2);
  out += header;
  out += tensor.data;
  return out;
}

absl::StatusOr<core::Tensor> ReadNpyFile(const std::string& path) {
  std::error_code error;
  // A folder opens as a stream, and reading it then throws from libstdc++.
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a folder, not a .npy file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError("cannot open", path);
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {
    return FileError("cannot read", path);
  }
  if (in.bad()) return FileError("cannot read", path);
  return ParseNpy(bytes, path);
}

absl::Status WriteNpyFile(const std::string& path, const core::Tensor& tensor) {
  absl::StatusOr<std::string> bytes = SerializeNpy(tensor);
  if (!bytes.ok()) return bytes.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) return FileError("cannot write", path);
  return absl::OkStatus();
}

}  // namespace edgeserve::cli
