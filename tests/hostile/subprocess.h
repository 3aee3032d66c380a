// SPDX-License-Identifier: MIT
// Runs a program the way a hostile-tree test needs: output captured, a wall-clock deadline, an
// address-space limit, optionally as an unprivileged user, with its peak memory measured.
#pragma once

#include <string>
#include <vector>

namespace hostile {

struct RunOptions {
  std::vector<std::string> args;  // args[0] is the program's path
  /// "NAME=value" entries set (or replaced) in the inherited environment.
  std::vector<std::string> set_env;
  /// Names removed from the inherited environment.
  std::vector<std::string> unset_env;
  /// The working directory of the child; empty keeps this process's.
  std::string cwd;
  /// A guard against hangs, not a performance bound: a loaded CI machine may be many times
  /// slower than a quiet one.
  int timeout_ms = 300000;
  /// RLIMIT_AS in bytes; 0 for none (ASan reserves terabytes of address space, so sanitized
  /// builds measure peak RSS instead).
  unsigned long long address_space_limit = 0;
  /// Run as nobody (uid/gid 65534, no supplementary groups). Needs root.
  bool unprivileged = false;
};

struct RunResult {
  bool started = false;    // false: fork/exec failed (see `error`)
  bool timed_out = false;  // killed at the deadline
  int exit_code = -1;      // when it exited
  int signal = 0;          // when a signal ended it
  std::string out;         // stdout
  std::string err;         // stderr
  double seconds = 0;      // wall-clock time
  long max_rss_kib = 0;    // peak resident set size
  std::string error;

  /// "exit 1", "signal 6", "timed out after 10 s": for failure messages.
  std::string describe() const;
};

RunResult run(const RunOptions& options);

}  // namespace hostile
