// SPDX-License-Identifier: MIT
// floor_reader: the whole-process floor for iommu-probe. It replays a log of the file system
// operations one probe run performed (bench_probe --ops-log) with plain syscalls and parses
// nothing: what any program that reads the same files must pay, process start included.
// Usage: floor_reader LOG. Each line of LOG is one operation on an absolute path:
//   R <limit> <path>               open, read until EOF or limit + 1 bytes, close
//   P <n> <off> <len>... <path>    open, n preads, close
//   D <path>                       opendir, readdir to the end, closedir
//   L <path>                       readlink
// The log is read whole first; splitting it is the only work besides the replay.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buffer[64 * 1024];

static char* slurp(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t size = 0, cap = 1 << 20;
  char* text = malloc(cap + 1);
  for (;;) {
    if (size == cap) text = realloc(text, (cap *= 2) + 1);
    ssize_t n = read(fd, text + size, cap - size);
    if (n <= 0) break;
    size += (size_t)n;
  }
  close(fd);
  text[size] = '\0';
  return text;
}

static void read_bounded(const char* path, size_t limit) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t total = 0;
  while (total <= limit) {
    size_t want = limit + 1 - total;
    if (want > sizeof buffer) want = sizeof buffer;
    ssize_t n = read(fd, buffer, want);
    if (n <= 0) break;
    total += (size_t)n;
  }
  close(fd);
}

/// "P <n> <off> <len>... <path>": `rest` starts at <n>.
static void read_positioned(char* rest) {
  char* end;
  long n = strtol(rest, &end, 10);
  long ranges[2 * 64];
  if (n > 64) n = 64;
  for (long i = 0; i < 2 * n; ++i) ranges[i] = strtol(end, &end, 10);
  const char* path = end + 1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  for (long i = 0; i < n; ++i) {
    size_t len = (size_t)ranges[2 * i + 1];
    if (len > sizeof buffer) len = sizeof buffer;
    if (pread(fd, buffer, len, ranges[2 * i]) < 0) break;
  }
  close(fd);
}

static void list(const char* path) {
  DIR* dir = opendir(path);
  if (dir == NULL) return;
  while (readdir(dir) != NULL) {
  }
  closedir(dir);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor_reader LOG\n");
    return 2;
  }
  char* text = slurp(argv[1]);
  if (text == NULL) {
    perror(argv[1]);
    return 1;
  }
  char link[PATH_MAX];
  for (char* line = text; *line != '\0';) {
    char* nl = strchr(line, '\n');
    if (nl != NULL) *nl = '\0';
    switch (line[0]) {
      case 'R': {
        char* path;
        size_t limit = strtoul(line + 2, &path, 10);
        read_bounded(path + 1, limit);
        break;
      }
      case 'P':
        read_positioned(line + 2);
        break;
      case 'D':
        list(line + 2);
        break;
      case 'L':
        if (readlink(line + 2, link, sizeof link) < 0) link[0] = '\0';
        break;
    }
    if (nl == NULL) break;
    line = nl + 1;
  }
  free(text);
  return 0;
}
