// SPDX-License-Identifier: MIT
// Where a tool's --output goes: a regular file replaced atomically (readers see the old content
// or the new, never a partial file), or a character device, FIFO or descriptor written straight
// through; anything else is refused before the tool reads its inputs.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "libcaps/result.h"

namespace tools {

/// A file's identity: two paths name the same file when both are equal.
struct FileId {
  dev_t device = 0;
  ino_t inode = 0;
  friend bool operator==(const FileId&, const FileId&) = default;
};

/// The identity of the file `path` names, following symbolic links; nullopt when it does not
/// exist or cannot be examined.
std::optional<FileId> file_id(const std::string& path);

/// What an --output path is, decided before anything is read or written.
struct OutputTarget {
  enum class Kind {
    kReplace,     // a regular file, or nothing yet: written to a temporary file, then renamed
    kDevice,      // a character device or FIFO (/dev/null, a named pipe): written in place
    kDescriptor,  // /dev/stdout, /dev/stderr, /dev/fd/N: the tool's own descriptor N
  };
  /// The path as given, for messages.
  std::string path;
  Kind kind = Kind::kReplace;
  /// kReplace: the file to replace, symbolic links resolved (the link itself is kept and
  /// still points at the new file); kDevice: the path to open.
  std::string file;
  /// kDescriptor: the descriptor to write to.
  int descriptor = -1;
  /// The file written or replaced, when it exists already.
  std::optional<FileId> id;
};

/// Decides what `path` is. A regular file (or a symbolic link to one) is replaced atomically, a
/// path that does not exist is created in its existing directory, a character device or FIFO
/// is written in place. Refused, with an error naming the path: directories, block devices,
/// sockets, symbolic links to nothing, and paths whose directory does not exist.
caps::Result<OutputTarget> classify_output(const std::string& path);

/// Why writing `target` would destroy an input, or empty: it is one of `input_files` (the
/// same file, however spelled: compared by device and inode, through symbolic links and hard
/// links), or it lies inside the sys/ or proc/ of one of the `trees` read. Checked before
/// anything is read, so a refused run leaves every file as it was.
std::string output_conflict(const OutputTarget& target, const std::vector<std::string>& input_files,
                            const std::vector<std::string>& trees);

/// Output being written: a stream, and commit() to make it final. Destroyed without a
/// successful commit(), a replacement leaves the old file as it was and removes its temporary
/// file (a device or descriptor keeps what was already written to it: it cannot be undone).
class OutputFile {
 public:
  /// Opens `target`: a temporary file beside the file to replace (same directory, so the
  /// rename cannot cross file systems), or the device or descriptor. Errors name the path
  /// and the system's reason.
  static caps::Result<std::unique_ptr<OutputFile>> open(const OutputTarget& target);
  /// The process's standard output (descriptor 1, never closed).
  static std::unique_ptr<OutputFile> standard_output();

  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::ostream& stream();

  /// Flushes and checks every write; for a replacement also syncs the temporary file, gives
  /// it the old file's mode (a new file gets 0666 minus the umask), renames it over the file
  /// and syncs the directory. Any failure, a failed stream included (a formatter that could
  /// not allocate leaves the stream bad), is an error naming the path and the reason; the
  /// old file is then left as it was.
  caps::Result<void> commit();

 private:
  class Buffer;
  OutputFile(std::string name, int fd, bool owns_fd);

  std::string name_;  // for messages: the path as given, or "standard output"
  int fd_;
  bool owns_fd_;
  std::string temp_;  // replacement only: the temporary file
  std::string file_;  // replacement only: the file to replace
  std::string dir_;   // replacement only: its directory
  mode_t mode_ = 0;   // replacement only: the mode the new file gets
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<std::ostream> stream_;
  bool committed_ = false;
};

/// Replaces the regular file `path` (or creates it) with `content` atomically: classify_output,
/// OutputFile::open, write, commit. Also writes to devices and descriptors as classify_output
/// allows.
caps::Result<void> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace tools
