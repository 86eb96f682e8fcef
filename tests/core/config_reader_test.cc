#include "edgeserve/core/config_reader.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util/temp_dir.h"

namespace edgeserve::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFile[] = "conf/test.yaml";

// The messages Finish() reports, one per line.
std::vector<std::string> Errors(const absl::Status& status) {
  std::vector<std::string> lines;
  if (status.ok()) return lines;
  std::string message(status.message());
  size_t start = 0;
  for (;;) {
    const size_t end = message.find('\n', start);
    lines.push_back(message.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

TEST(ConfigReaderTest, EmptyDocumentIsValidAndKeepsDefaults) {
  const YAML::Node node = YAML::Load("");
  ConfigReader reader(node, kFile, "");
  int64_t number = 5;
  bool flag = true;
  std::string text = "default";
  std::vector<int64_t> list = {1, 2};
  reader.Int("number", &number, 0, 10);
  reader.Bool("flag", &flag);
  reader.String("text", &text);
  reader.IntList("list", &list);
  EXPECT_TRUE(reader.Finish().ok());
  EXPECT_EQ(number, 5);
  EXPECT_TRUE(flag);
  EXPECT_EQ(text, "default");
  EXPECT_THAT(list, ElementsAre(1, 2));
}

TEST(ConfigReaderTest, AbsentAndNullKeysKeepTheDefaults) {
  const YAML::Node node = YAML::Load("other: 1\nnumber: ~\nsmall:\nflag: null\ntext: ~\nlist: ~\nchoice: ~");
  ConfigReader reader(node, kFile, "");
  int64_t number = 7;
  int small = -3;
  bool flag = false;
  std::string text = "kept";
  std::string choice = "b";
  std::vector<int64_t> list = {9};
  int64_t absent = 11;
  int64_t other = 0;
  reader.Int("number", &number, 0, 100);
  reader.Int("small", &small, -10, 10);
  reader.Bool("flag", &flag);
  reader.String("text", &text);
  reader.Choice("choice", &choice, {"a", "b"});
  reader.IntList("list", &list);
  reader.Int("absent", &absent, 0, 100);
  reader.Int("other", &other, 0, 100);
  const absl::Status status = reader.Finish();
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(number, 7);
  EXPECT_EQ(small, -3);
  EXPECT_FALSE(flag);
  EXPECT_EQ(text, "kept");
  EXPECT_EQ(choice, "b");
  EXPECT_THAT(list, ElementsAre(9));
  EXPECT_EQ(absent, 11);
  EXPECT_EQ(other, 1);
}

TEST(ConfigReaderTest, ReadsValuesOfEveryKind) {
  const YAML::Node node =
      YAML::Load("wide: -9000000000\nnarrow: 42\nenabled: true\ndisabled: false\nname: hello world\nmode: fast\n"
                 "dims: [3, -1, 224]\nempty: []\nquoted: '123'");
  ConfigReader reader(node, kFile, "");
  int64_t wide = 0;
  int narrow = 0;
  bool on = false;
  bool off = true;
  std::string name;
  std::string mode = "slow";
  std::vector<int64_t> dims;
  std::vector<int64_t> empty = {1};
  std::string quoted;
  reader.Int("wide", &wide, std::numeric_limits<int64_t>::min(), 0);
  reader.Int("narrow", &narrow, 0, 100);
  reader.Bool("enabled", &on);
  reader.Bool("disabled", &off);
  reader.String("name", &name);
  reader.Choice("mode", &mode, {"slow", "fast"});
  reader.IntList("dims", &dims);
  reader.IntList("empty", &empty);
  reader.String("quoted", &quoted);
  const absl::Status status = reader.Finish();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(wide, -9000000000);
  EXPECT_EQ(narrow, 42);
  EXPECT_TRUE(on);
  EXPECT_FALSE(off);
  EXPECT_EQ(name, "hello world");
  EXPECT_EQ(mode, "fast");
  EXPECT_THAT(dims, ElementsAre(3, -1, 224));
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(quoted, "123");
}

// yaml-cpp answers a lookup with the first of two equal keys; the second
// was ignored without a word (max_batch_size: 64 then 8 served 64).
TEST(ConfigReaderTest, AKeyGivenTwiceIsAnError) {
  const YAML::Node node = YAML::Load("server:\n  port: 80\n  port: 8001\nlevel: info\n");
  ConfigReader top(node, kFile, "");
  ConfigReader server = top.Child("server");
  int64_t port = 0;
  server.Int("port", &port, 1, 65535);
  top.Merge(server.Finish());
  std::string level;
  top.String("level", &level);
  EXPECT_THAT(Errors(top.Finish()), ElementsAre("conf/test.yaml: server.port: given twice; keep one"));
}

TEST(ConfigReaderTest, WrongTypesNameFileAndDottedKeyAndKeepDefaults) {
  const YAML::Node node = YAML::Load(
      "server:\n"
      "  port: eighty\n"
      "  threads: 1.5\n"
      "  verbose: maybe\n"
      "  address: [a, b]\n"
      "  mode: {x: 1}\n"
      "  dims: 7\n"
      "  more: [1, two, 3]\n"
      "  nested: [[1]]\n"
      "  big: 99999999999999999999\n");
  ConfigReader top(node, kFile, "");
  ConfigReader server = top.Child("server");
  int64_t port = 80;
  int threads = 2;
  bool verbose = false;
  std::string address = "here";
  std::string mode = "a";
  std::vector<int64_t> dims = {1};
  std::vector<int64_t> more = {2};
  std::vector<int64_t> nested = {3};
  int64_t big = 4;
  server.Int("port", &port, 0, 65535);
  server.Int("threads", &threads, 1, 64);
  server.Bool("verbose", &verbose);
  server.String("address", &address);
  server.Choice("mode", &mode, {"a", "b"});
  server.IntList("dims", &dims);
  server.IntList("more", &more);
  server.IntList("nested", &nested);
  server.Int("big", &big, 0, std::numeric_limits<int64_t>::max());
  top.Merge(server.Finish());
  const absl::Status status = top.Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Errors(status),
              ElementsAre("conf/test.yaml: server.port: expected an integer",
                          "conf/test.yaml: server.threads: expected an integer",
                          "conf/test.yaml: server.verbose: expected true or false",
                          "conf/test.yaml: server.address: expected a string",
                          "conf/test.yaml: server.mode: expected a string",
                          "conf/test.yaml: server.dims: expected a list of integers such as [3, 224, 224]",
                          "conf/test.yaml: server.more: expected a list of integers such as [3, 224, 224]",
                          "conf/test.yaml: server.nested: expected a list of integers such as [3, 224, 224]",
                          "conf/test.yaml: server.big: expected an integer"));
  EXPECT_EQ(port, 80);
  EXPECT_EQ(threads, 2);
  EXPECT_FALSE(verbose);
  EXPECT_EQ(address, "here");
  EXPECT_EQ(mode, "a");
  EXPECT_THAT(dims, ElementsAre(1));
  EXPECT_THAT(more, ElementsAre(2));
  EXPECT_THAT(nested, ElementsAre(3));
  EXPECT_EQ(big, 4);
}

TEST(ConfigReaderTest, RangeErrorsGiveTheBoundsAndTheValue) {
  const YAML::Node node = YAML::Load("low: -1\nhigh: 65536\nnarrow: 3000000000\nedge_low: 0\nedge_high: 65535");
  ConfigReader reader(node, kFile, "");
  int64_t low = 1;
  int64_t high = 2;
  int narrow = 3;
  int64_t edge_low = 5;
  int64_t edge_high = 5;
  reader.Int("low", &low, 0, 65535);
  reader.Int("high", &high, 0, 65535);
  reader.Int("narrow", &narrow, 1, std::numeric_limits<int>::max());
  reader.Int("edge_low", &edge_low, 0, 65535);
  reader.Int("edge_high", &edge_high, 0, 65535);
  const absl::Status status = reader.Finish();
  EXPECT_THAT(Errors(status), ElementsAre("conf/test.yaml: low: must be between 0 and 65535, got -1",
                                          "conf/test.yaml: high: must be between 0 and 65535, got 65536",
                                          "conf/test.yaml: narrow: must be between 1 and 2147483647, got 3000000000"));
  EXPECT_EQ(low, 1);
  EXPECT_EQ(high, 2);
  EXPECT_EQ(narrow, 3);
  EXPECT_EQ(edge_low, 0);
  EXPECT_EQ(edge_high, 65535);
}

TEST(ConfigReaderTest, ChoiceRejectsValuesOutsideTheList) {
  const YAML::Node node = YAML::Load("format: xml\nlevel: Info");
  ConfigReader reader(node, kFile, "logging");
  std::string format = "text";
  std::string level = "info";
  reader.Choice("format", &format, {"text", "json"});
  reader.Choice("level", &level, {"debug", "info"});
  EXPECT_THAT(Errors(reader.Finish()),
              ElementsAre("conf/test.yaml: logging.format: must be one of text, json, got 'xml'",
                          "conf/test.yaml: logging.level: must be one of debug, info, got 'Info'"));
  EXPECT_EQ(format, "text");
  EXPECT_EQ(level, "info");
}

TEST(ConfigReaderTest, HasIsTrueOnlyForKeysWithValues) {
  const YAML::Node node = YAML::Load("present: 1\nempty_list: []\nnull_value: ~\nblank:");
  ConfigReader reader(node, kFile, "");
  EXPECT_TRUE(reader.Has("present"));
  EXPECT_TRUE(reader.Has("empty_list"));
  EXPECT_FALSE(reader.Has("null_value"));
  EXPECT_FALSE(reader.Has("blank"));
  EXPECT_FALSE(reader.Has("absent"));
  const YAML::Node scalar = YAML::Load("just a string");
  ConfigReader not_a_map(scalar, kFile, "");
  EXPECT_FALSE(not_a_map.Has("present"));
}

TEST(ConfigReaderTest, UnknownKeysAreReportedWithTheirPath) {
  const YAML::Node node = YAML::Load("known: 1\ntypo_key: 2\nserver:\n  port: 1\n  prot: 2\n");
  ConfigReader reader(node, kFile, "");
  int64_t known = 0;
  reader.Int("known", &known, 0, 10);
  ConfigReader server = reader.Child("server");
  int64_t port = 0;
  server.Int("port", &port, 0, 10);
  reader.Merge(server.Finish());
  const absl::Status status = reader.Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Errors(status), ElementsAre("conf/test.yaml: server.prot: unknown key",
                                          "conf/test.yaml: typo_key: unknown key"));
  EXPECT_EQ(known, 1);
  EXPECT_EQ(port, 1);
}

TEST(ConfigReaderTest, KeysAskedAboutButAbsentOrWrongAreNotUnknown) {
  const YAML::Node node = YAML::Load("a: text");
  ConfigReader reader(node, kFile, "");
  int64_t a = 0;
  int64_t b = 0;
  reader.Int("a", &a, 0, 1);
  reader.Int("b", &b, 0, 1);
  EXPECT_THAT(Errors(reader.Finish()), ElementsAre("conf/test.yaml: a: expected an integer"));
}

// A mapping key that is not a plain string (a YAML flow sequence or mapping)
// must be reported like any other unknown key. Finish() converts every key
// with as<std::string>(), which throws YAML::TypedBadConversion for these, so
// a malformed config file takes the daemon down instead of naming the key.
TEST(ConfigReaderTest, NonScalarKeyIsAnErrorNotAnException) {
  const YAML::Node node = YAML::Load("name: x\n[a, b]: 1\n");
  ConfigReader reader(node, kFile, "");
  std::string name;
  reader.String("name", &name);
  absl::Status status;
  EXPECT_NO_THROW(status = reader.Finish());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("conf/test.yaml"));
}

TEST(ConfigReaderTest, TopLevelThatIsNotAMappingIsAnError) {
  for (const char* text : {"- a\n- b", "plain text", "42"}) {
    const YAML::Node node = YAML::Load(text);
    ConfigReader reader(node, kFile, "");
    int64_t value = 3;
    reader.Int("value", &value, 0, 10);
    EXPECT_THAT(Errors(reader.Finish()),
                ElementsAre("conf/test.yaml: top level: expected a mapping of keys to values"))
        << text;
    EXPECT_EQ(value, 3);
  }
}

TEST(ConfigReaderTest, ChildReadsNestedKeysUnderItsPath) {
  const YAML::Node node = YAML::Load("server:\n  limits:\n    max: 200\n    min: -5\n");
  ConfigReader reader(node, kFile, "");
  ConfigReader server = reader.Child("server");
  ConfigReader limits = server.Child("limits");
  int64_t max = 0;
  int64_t min = 0;
  limits.Int("max", &max, 0, 100);
  limits.Int("min", &min, -10, 10);
  server.Merge(limits.Finish());
  reader.Merge(server.Finish());
  EXPECT_THAT(Errors(reader.Finish()),
              ElementsAre("conf/test.yaml: server.limits.max: must be between 0 and 100, got 200"));
  EXPECT_EQ(max, 0);
  EXPECT_EQ(min, -5);
}

TEST(ConfigReaderTest, ChildOfAbsentKeyKeepsDefaults) {
  const YAML::Node node = YAML::Load("other: 1");
  ConfigReader reader(node, kFile, "");
  int64_t other = 0;
  reader.Int("other", &other, 0, 10);
  ConfigReader server = reader.Child("server");
  EXPECT_FALSE(server.Has("port"));
  int64_t port = 8001;
  server.Int("port", &port, 0, 65535);
  reader.Merge(server.Finish());
  EXPECT_TRUE(reader.Finish().ok());
  EXPECT_EQ(port, 8001);
}

TEST(ConfigReaderTest, ChildThatIsNotAMappingIsOneError) {
  const YAML::Node node = YAML::Load("server: 8001\nlist: [1, 2]");
  ConfigReader reader(node, kFile, "");
  ConfigReader server = reader.Child("server");
  ConfigReader list = reader.Child("list");
  int64_t port = 1;
  server.Int("port", &port, 0, 65535);
  reader.Merge(server.Finish());
  reader.Merge(list.Finish());
  EXPECT_THAT(Errors(reader.Finish()),
              ElementsAre("conf/test.yaml: server: expected a mapping of keys to values",
                          "conf/test.yaml: list: expected a mapping of keys to values"));
  EXPECT_EQ(port, 1);
}

TEST(ConfigReaderTest, MergeOfOkAddsNothing) {
  const YAML::Node node = YAML::Load("a: 1");
  ConfigReader reader(node, kFile, "");
  int64_t a = 0;
  reader.Int("a", &a, 0, 10);
  reader.Merge(absl::OkStatus());
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ConfigReaderTest, SequenceElementsCarryTheirIndexInPaths) {
  const YAML::Node node = YAML::Load(
      "inputs:\n"
      "  - {name: a, datatype: FP32}\n"
      "  - {name: b, datatype: [1], extra: 3}\n");
  ConfigReader reader(node, kFile, "");
  std::vector<std::string> names;
  for (ConfigReader& element : reader.Sequence("inputs")) {
    std::string name;
    std::string datatype;
    element.String("name", &name);
    element.String("datatype", &datatype);
    names.push_back(name);
    reader.Merge(element.Finish());
  }
  EXPECT_THAT(names, ElementsAre("a", "b"));
  EXPECT_THAT(Errors(reader.Finish()), ElementsAre("conf/test.yaml: inputs[1].datatype: expected a string",
                                                   "conf/test.yaml: inputs[1].extra: unknown key"));
}

TEST(ConfigReaderTest, SequenceUnderAChildHasTheFullPath) {
  const YAML::Node node = YAML::Load("model:\n  outputs:\n    - {name: y}\n    - {name: z, shape: x}\n");
  ConfigReader reader(node, kFile, "");
  ConfigReader model = reader.Child("model");
  for (ConfigReader& element : model.Sequence("outputs")) {
    std::string name;
    std::vector<int64_t> shape;
    element.String("name", &name);
    element.IntList("shape", &shape);
    model.Merge(element.Finish());
  }
  reader.Merge(model.Finish());
  EXPECT_THAT(Errors(reader.Finish()),
              ElementsAre("conf/test.yaml: model.outputs[1].shape: expected a list of integers such as [3, 224, 224]"));
}

TEST(ConfigReaderTest, SequenceOfNonMappingsAndNonSequence) {
  const YAML::Node node = YAML::Load("items: [1, {a: 2}]\nsingle: 5\nnothing: ~\nnone: []");
  ConfigReader reader(node, kFile, "");
  std::vector<ConfigReader> items = reader.Sequence("items");
  ASSERT_EQ(items.size(), 2u);
  for (ConfigReader& element : items) {
    int64_t a = 0;
    element.Int("a", &a, 0, 10);
    reader.Merge(element.Finish());
  }
  EXPECT_TRUE(reader.Sequence("single").empty());
  EXPECT_TRUE(reader.Sequence("nothing").empty());
  EXPECT_TRUE(reader.Sequence("none").empty());
  EXPECT_TRUE(reader.Sequence("absent").empty());
  EXPECT_THAT(Errors(reader.Finish()), ElementsAre("conf/test.yaml: items[0]: expected a mapping of keys to values",
                                                   "conf/test.yaml: single: expected a list"));
}

TEST(ConfigReaderTest, ErrorRecordsTheCallersMessageUnderTheKeyPath) {
  const YAML::Node node = YAML::Load("server: {port: 1}");
  ConfigReader reader(node, kFile, "");
  ConfigReader server = reader.Child("server");
  int64_t port = 0;
  server.Int("port", &port, 0, 10);
  server.Error("port", "is reserved");
  reader.Merge(server.Finish());
  reader.Error("name", "required");
  const absl::Status status = reader.Finish();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Errors(status),
              ElementsAre("conf/test.yaml: server.port: is reserved", "conf/test.yaml: name: required"));
}

TEST(LoadYamlFileTest, ReadsAValidFile) {
  test_util::ScratchDir dir;
  const std::string file = dir.WriteFile("ok.yaml", "a: 1\nb: [2, 3]\n");
  YAML::Node node;
  ASSERT_TRUE(LoadYamlFile(file, &node).ok());
  ASSERT_TRUE(node.IsMap());
  EXPECT_EQ(node["a"].as<int>(), 1);
  EXPECT_EQ(node["b"].size(), 2u);
}

TEST(LoadYamlFileTest, MissingFileIsNotFoundNamingIt) {
  test_util::ScratchDir dir;
  const std::string file = dir.path() + "/absent.yaml";
  YAML::Node node;
  const absl::Status status = LoadYamlFile(file, &node);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), file + ": no such file");
}

TEST(LoadYamlFileTest, DirectoryIsNotAFile) {
  test_util::ScratchDir dir;
  YAML::Node node;
  const absl::Status status = LoadYamlFile(dir.path(), &node);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(dir.path()));
}

TEST(LoadYamlFileTest, MalformedYamlIsInvalidArgumentNamingTheFile) {
  test_util::ScratchDir dir;
  for (const char* text : {"a: [1, 2\n", "a: b: c\n", "{a: 1", "]\n", "a: &x 1\nb: *y\n"}) {
    const std::string file = dir.WriteFile("bad.yaml", text);
    YAML::Node node;
    const absl::Status status = LoadYamlFile(file, &node);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(status.message()), HasSubstr(file + ": not valid YAML: ")) << text;
  }
}

TEST(LoadYamlFileTest, FileOverTheSizeLimitIsRefusedBeforeParsing) {
  test_util::ScratchDir dir;
  std::string text = "a: 1\n";
  text.resize(kMaxConfigFileBytes + 1, '#');
  const std::string file = dir.WriteFile("huge.yaml", text);
  YAML::Node node;
  const absl::Status status = LoadYamlFile(file, &node);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), absl::StrCat(file,
                                           ": 1048577 bytes, larger than the 1048576 bytes a configuration "
                                           "file may have"));

  text.resize(kMaxConfigFileBytes);
  EXPECT_TRUE(LoadYamlFile(dir.WriteFile("largest.yaml", text), &node).ok());
  EXPECT_EQ(node["a"].as<int>(), 1);
}

TEST(LoadYamlFileTest, EmptyFileIsANullDocument) {
  test_util::ScratchDir dir;
  const std::string file = dir.WriteFile("empty.yaml", "");
  YAML::Node node;
  ASSERT_TRUE(LoadYamlFile(file, &node).ok());
  EXPECT_TRUE(node.IsNull());
  ConfigReader reader(node, file, "");
  EXPECT_TRUE(reader.Finish().ok());
}

}  // namespace
}  // namespace edgeserve::core
