#include "test_util/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"

namespace edgeserve::test_util {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  const std::string base = ::testing::TempDir();
  const std::string pattern = (fs::path(base) / "edgeserve_test_XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed under " + base);
  path_ = buffer.data();
}

ScratchDir::~ScratchDir() {
  std::error_code error;
  fs::remove_all(path_, error);
}

std::string ScratchDir::WriteFile(const std::string& relative, const std::string& contents) const {
  const fs::path file = fs::path(path_) / relative;
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file.string();
}

std::string ScratchDir::MakeDir(const std::string& relative) const {
  const fs::path dir = fs::path(path_) / relative;
  fs::create_directories(dir);
  return dir.string();
}

std::string ScratchDir::CopyFile(const std::string& from, const std::string& relative) const {
  const fs::path to = fs::path(path_) / relative;
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  return to.string();
}

}  // namespace edgeserve::test_util
