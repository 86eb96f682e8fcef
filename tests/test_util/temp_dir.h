// A scratch folder per test, removed with everything in it when the object
// goes. Made under GoogleTest's temporary directory with a unique name, so
// tests never share or collide on files.
#pragma once

#include <string>

namespace edgeserve::test_util {

class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();

  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // The folder's absolute path, without a trailing slash.
  const std::string& path() const { return path_; }

  // `path()/relative`, with the folders on the way made; returns the file's path.
  std::string WriteFile(const std::string& relative, const std::string& contents) const;
  // `path()/relative` as a folder (and its parents); returns its path.
  std::string MakeDir(const std::string& relative) const;
  // Copies the file `from` to `path()/relative`; returns the copy's path.
  std::string CopyFile(const std::string& from, const std::string& relative) const;

 private:
  std::string path_;
};

}  // namespace edgeserve::test_util
