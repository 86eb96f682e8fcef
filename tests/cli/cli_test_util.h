// Helpers shared by the edgeserve-cli tests. The project links GoogleTest
// without GoogleMock, hence a plain assertion instead of HasSubstr.
#ifndef EDGESERVE_TESTS_CLI_CLI_TEST_UTIL_H_
#define EDGESERVE_TESTS_CLI_CLI_TEST_UTIL_H_

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace edgeserve::cli {

inline ::testing::AssertionResult Contains(absl::string_view text, absl::string_view part) {
  if (text.find(part) != absl::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// The bytes of `values` as a tensor's data.
template <typename T>
std::string Bytes(const std::vector<T>& values) {
  std::string data(values.size() * sizeof(T), '\0');
  std::memcpy(data.data(), values.data(), data.size());
  return data;
}

}  // namespace edgeserve::cli

#endif  // EDGESERVE_TESTS_CLI_CLI_TEST_UTIL_H_
