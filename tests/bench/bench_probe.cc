// SPDX-License-Identifier: MIT
// bench_probe: how the probe pipeline (open_dir_source + read_host + format_json) scales with
// the number of IOMMU units, against a floor that performs exactly the same file system
// operations with plain syscalls and parses nothing. Prints tables; asserts nothing.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "bench_util.h"
#include "iommu-probe/probe_format_json.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"

namespace bench {
namespace {

// ---------------------------------------------------------------------------------------------
// Fake sysfs trees: N Intel units shaped like fake-sysfs/hosts/intel-icx-2s (one root port and
// one endpoint behind every unit, each in its own group).

[[noreturn]] void die(const std::string& what) {
  std::cerr << "bench_probe: error: " << what << ": " << std::strerror(errno) << '\n';
  std::exit(1);
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

/// The relative symlink text that makes `link` (root-relative) point at `target` (root-relative),
/// as short as the kernel writes it: "../../devices/virtual/iommu/dmar0".
std::string relative_target(std::string_view link, std::string_view target) {
  std::vector<std::string_view> from = split_path(link);
  from.pop_back();  // the link's own name
  const std::vector<std::string_view> to = split_path(target);
  std::size_t common = 0;
  while (common < from.size() && common < to.size() && from[common] == to[common]) ++common;
  std::string out;
  for (std::size_t i = common; i < from.size(); ++i) out += "../";
  for (std::size_t i = common; i < to.size(); ++i) {
    out += to[i];
    if (i + 1 < to.size()) out += '/';
  }
  return out;
}

/// Writes files and symlinks under a root, creating parent directories on the way.
class TreeWriter {
 public:
  explicit TreeWriter(std::string root) : root_(std::move(root)) {
    if (::mkdir(root_.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + root_);
  }

  void file(const std::string& path, std::string_view content) {
    make_parents(path);
    const std::string abs = root_ + "/" + path;
    const int fd = ::open(abs.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) die("create " + abs);
    if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
      die("write " + abs);
    }
    ::close(fd);
  }

  /// `path` -> `target`, both root-relative; the link text is relative.
  void link(const std::string& path, const std::string& target) {
    make_parents(path);
    const std::string abs = root_ + "/" + path;
    if (::symlink(relative_target(path, target).c_str(), abs.c_str()) != 0) die("symlink " + abs);
  }

  void dir(const std::string& path) { make_dirs(path); }

 private:
  void make_parents(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    if (slash != std::string::npos) make_dirs(path.substr(0, slash));
  }

  void make_dirs(const std::string& path) {
    if (made_.count(path) != 0) return;
    const std::size_t slash = path.rfind('/');
    if (slash != std::string::npos) make_dirs(path.substr(0, slash));
    const std::string abs = root_ + "/" + path;
    if (::mkdir(abs.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + abs);
    made_.insert(path);
  }

  std::string root_;
  std::unordered_set<std::string> made_;
};

std::string hex(uint64_t value, int width = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(value));
  return buf;
}

void put16(std::string& bytes, std::size_t offset, uint32_t value) {
  bytes[offset] = static_cast<char>(value & 0xff);
  bytes[offset + 1] = static_cast<char>((value >> 8) & 0xff);
}

void put32(std::string& bytes, std::size_t offset, uint32_t value) {
  put16(bytes, offset, value & 0xffff);
  put16(bytes, offset + 2, value >> 16);
}

/// A PCI function as fake-sysfs-build describes it.
struct PciFunction {
  std::string bdf;
  std::string dir;  // root-relative sysfs directory
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint32_t class_code = 0;
  uint16_t subsys_vendor = 0;
  uint16_t subsys_device = 0;
  bool bridge = false;
  int secondary = 0;
  std::string driver;
  std::string unit;
  uint64_t group = 0;
  bool ext_caps = false;  // ATS, PRI and PASID (20 bits, exec, priv)
};

/// 4 KiB of config space laid out like fake-sysfs-build's: header, PCI Express capability at
/// 0x40 and, for endpoints, ATS -> PRI -> PASID extended capabilities from 0x100.
std::string config_space(const PciFunction& f) {
  std::string c(4096, '\0');
  put16(c, 0x00, f.vendor);
  put16(c, 0x02, f.device);
  put16(c, 0x04, f.driver.empty() ? 0 : 0x0006);  // memory + bus master when bound
  put16(c, 0x06, 0x0010);                         // capability list
  c[0x09] = static_cast<char>(f.class_code & 0xff);
  c[0x0a] = static_cast<char>((f.class_code >> 8) & 0xff);
  c[0x0b] = static_cast<char>((f.class_code >> 16) & 0xff);
  c[0x0e] = static_cast<char>(f.bridge ? 1 : 0);
  if (f.bridge) {
    c[0x19] = static_cast<char>(f.secondary);
    c[0x1a] = static_cast<char>(f.secondary);
  } else {
    put16(c, 0x2c, f.subsys_vendor);
    put16(c, 0x2e, f.subsys_device);
  }
  c[0x34] = 0x40;
  put16(c, 0x40, 0x0010);                      // PCI Express, last in the list
  put16(c, 0x42, f.bridge ? 0x0042 : 0x0002);  // version 2; root port or endpoint
  if (!f.ext_caps) return c;
  put32(c, 0x100, 0x000f | 1u << 16 | 0x110u << 20);  // ATS
  put16(c, 0x104, 0x0020);
  put32(c, 0x110, 0x0013 | 1u << 16 | 0x120u << 20);  // PRI
  put16(c, 0x116, 0x0100);                            // status: stopped
  put32(c, 0x118, 0x200);                             // outstanding request capacity
  put32(c, 0x120, 0x001b | 1u << 16);                 // PASID, end of list
  put16(c, 0x124, 20u << 8 | 0x2 | 0x4);              // width 20, exec, priv
  return c;
}

void write_pci_function(TreeWriter& tree, const PciFunction& f) {
  const std::string id = hex(f.vendor, 4) + ":" + hex(f.device, 4);
  const std::string subsys = hex(f.subsys_vendor, 4) + ":" + hex(f.subsys_device, 4);
  std::string uevent;
  if (!f.driver.empty()) uevent += "DRIVER=" + f.driver + "\n";
  uevent += "PCI_CLASS=" + hex(f.class_code) + "\nPCI_ID=" + id + "\nPCI_SUBSYS_ID=" + subsys +
            "\nPCI_SLOT_NAME=" + f.bdf + "\n";
  tree.file(f.dir + "/uevent", uevent);
  tree.file(f.dir + "/vendor", "0x" + hex(f.vendor, 4) + "\n");
  tree.file(f.dir + "/device", "0x" + hex(f.device, 4) + "\n");
  tree.file(f.dir + "/class", "0x" + hex(f.class_code, 6) + "\n");
  tree.file(f.dir + "/revision", "0x04\n");
  tree.file(f.dir + "/subsystem_vendor", "0x" + hex(f.subsys_vendor, 4) + "\n");
  tree.file(f.dir + "/subsystem_device", "0x" + hex(f.subsys_device, 4) + "\n");
  tree.file(f.dir + "/config", config_space(f));
  tree.link(f.dir + "/subsystem", "sys/bus/pci");
  tree.link("sys/bus/pci/devices/" + f.bdf, f.dir);
  if (!f.driver.empty()) {
    tree.link(f.dir + "/driver", "sys/bus/pci/drivers/" + f.driver);
    tree.link("sys/bus/pci/drivers/" + f.driver + "/" + f.bdf, f.dir);
  }
  tree.link(f.dir + "/iommu", "sys/devices/virtual/iommu/" + f.unit);
  const std::string group = "sys/kernel/iommu_groups/" + std::to_string(f.group);
  tree.link(f.dir + "/iommu_group", group);
  tree.link(group + "/devices/" + f.bdf, f.dir);
  tree.file(group + "/type", f.bridge ? "DMA-FQ\n" : "DMA\n");
  tree.file(group + "/reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
}

void write_intel_unit(TreeWriter& tree, int index, const std::vector<const PciFunction*>& devs) {
  const std::string name = "dmar" + std::to_string(index);
  const std::string dir = "sys/devices/virtual/iommu/" + name;
  tree.file(dir + "/uevent", "SUBSYSTEM=iommu\n");
  tree.link(dir + "/subsystem", "sys/class/iommu");
  tree.link("sys/class/iommu/" + name, dir);
  // The intel-icx-2s registers: scalable mode with PASID, PRS and nesting.
  tree.file(dir + "/intel-iommu/version", "6:0\n");
  tree.file(dir + "/intel-iommu/address", hex(0xaa3fc000ull + 0x1000ull * index) + "\n");
  tree.file(dir + "/intel-iommu/cap", "9ed008c40780466\n");
  tree.file(dir + "/intel-iommu/ecap", "3ef9ea6f050df\n");
  tree.file(dir + "/intel-iommu/domains_supported", "65536\n");
  tree.file(dir + "/intel-iommu/domains_used", std::to_string(2 + index % 5) + "\n");
  tree.dir(dir + "/devices");
  for (const PciFunction* d : devs) tree.link(dir + "/devices/" + d->bdf, d->dir);
}

/// Writes a host with `units` Intel units under `root`.
void write_host(const std::string& root, int units) {
  TreeWriter tree(root);
  tree.file("proc/cmdline",
            "BOOT_IMAGE=/vmlinuz-6.8.0-51-generic root=/dev/mapper/vg0-root ro "
            "intel_iommu=on,sm_on iommu.strict=0 console=ttyS0,115200n8\n");
  std::string dmar(48, '\0');  // placeholder ACPI header: signature and length
  dmar.replace(0, 4, "DMAR");
  put32(dmar, 4, 48);
  tree.file("sys/firmware/acpi/tables/DMAR", dmar);
  tree.dir("sys/class/iommu");
  tree.dir("sys/kernel/iommu_groups");
  for (int i = 0; i < units; ++i) {
    // 32 root buses per PCI domain, 8 bus numbers apart: 4096 units fit in 128 domains.
    const int domain = i / 32;
    const int bus = (i % 32) * 8;
    const std::string root_bus = "sys/devices/pci" + hex(domain, 4) + ":" + hex(bus, 2);
    tree.file(root_bus + "/uevent", "");
    const std::string unit = "dmar" + std::to_string(i);

    PciFunction port;
    port.bdf = hex(domain, 4) + ":" + hex(bus, 2) + ":02.0";
    port.dir = root_bus + "/" + port.bdf;
    port.vendor = 0x8086;
    port.device = 0x347a;
    port.class_code = 0x060400;
    port.bridge = true;
    port.secondary = bus + 1;
    port.driver = "pcieport";
    port.unit = unit;
    port.group = 2ull * i;

    PciFunction nic;
    nic.bdf = hex(domain, 4) + ":" + hex(bus + 1, 2) + ":00.0";
    nic.dir = port.dir + "/" + nic.bdf;
    nic.vendor = 0x15b3;
    nic.device = 0x101d;
    nic.class_code = 0x020000;
    nic.subsys_vendor = 0x15b3;
    nic.subsys_device = 0x0016;
    nic.driver = i % 2 == 0 ? "vfio-pci" : "mlx5_core";
    nic.unit = unit;
    nic.group = 2ull * i + 1;
    nic.ext_caps = true;

    write_pci_function(tree, port);
    write_pci_function(tree, nic);
    write_intel_unit(tree, i, {&port, &nic});
  }
}

// ---------------------------------------------------------------------------------------------
// Recording what the probe reads, and replaying it with plain syscalls.

enum class OpKind { kReadFile, kListDir, kReadLink, kPositioned };

/// A positioned read: offset and length.
using Range = std::pair<std::size_t, std::size_t>;

/// One file system operation the probe asked its Source for, as a root-relative path.
struct Op {
  OpKind kind = OpKind::kReadFile;
  std::string path;
  std::size_t limit = 0;      // read_file only
  std::vector<Range> ranges;  // positioned only: the reads made through open_file's handle
};

Op make_op(OpKind kind, std::string path, std::size_t limit = 0) {
  return Op{kind, std::move(path), limit, {}};
}

/// Forwards positioned reads to the backend's file and logs them on the open_file operation.
class RecordingFile final : public caps::PositionedFile {
 public:
  RecordingFile(std::unique_ptr<caps::PositionedFile> inner, std::vector<Op>& log,
                std::size_t index)
      : inner_(std::move(inner)), log_(log), index_(index) {}

  caps::FileRead read_at(std::size_t offset, std::size_t length) override {
    log_[index_].ranges.emplace_back(offset, length);
    return inner_->read_at(offset, length);
  }
  std::size_t size_hint() const override { return inner_->size_hint(); }

 private:
  std::unique_ptr<caps::PositionedFile> inner_;
  std::vector<Op>& log_;
  std::size_t index_;
};

/// A Source that forwards to another and logs every operation.
class RecordingSource final : public caps::Source {
 public:
  RecordingSource(caps::Source& inner, std::vector<Op>& log) : inner_(inner), log_(log) {}

  std::string_view backend() const override { return inner_.backend(); }
  const std::string& root() const override { return inner_.root(); }

  caps::DirRead list_units() override {
    // Where the directory backend lists units (source.h: "the names in sys/class/iommu").
    log_.push_back(make_op(OpKind::kListDir, "sys/class/iommu"));
    return inner_.list_units();
  }
  caps::FileRead read_unit_file(std::string_view unit, std::string_view path,
                                std::size_t limit) override {
    log_.push_back(make_op(OpKind::kReadFile, caps::unit_path(unit, path), limit));
    return inner_.read_unit_file(unit, path, limit);
  }
  caps::DirRead list_unit_dir(std::string_view unit, std::string_view path) override {
    log_.push_back(make_op(OpKind::kListDir, caps::unit_path(unit, path)));
    return inner_.list_unit_dir(unit, path);
  }
  caps::FileRead read_file(std::string_view path, std::size_t limit) override {
    log_.push_back(make_op(OpKind::kReadFile, std::string(path), limit));
    return inner_.read_file(path, limit);
  }
  caps::FileOpen open_file(std::string_view path, std::size_t limit) override {
    log_.push_back(make_op(OpKind::kPositioned, std::string(path), limit));
    caps::FileOpen opened = inner_.open_file(path, limit);
    if (opened.ok()) {
      opened.file = std::make_unique<RecordingFile>(std::move(opened.file), log_, log_.size() - 1);
    }
    return opened;
  }
  caps::DirRead list_dir(std::string_view path) override {
    log_.push_back(make_op(OpKind::kListDir, std::string(path)));
    return inner_.list_dir(path);
  }
  caps::LinkRead read_link(std::string_view path) override {
    log_.push_back(make_op(OpKind::kReadLink, std::string(path)));
    return inner_.read_link(path);
  }

 private:
  caps::Source& inner_;
  std::vector<Op>& log_;
};

/// What one probe run produced, for sanity checks.
struct ProbeOutput {
  std::size_t units = 0;
  std::size_t devices = 0;
  std::size_t groups = 0;
  std::size_t diagnostics = 0;
  std::size_t json_bytes = 0;
};

std::unique_ptr<caps::Source> open_source(const std::string& root) {
  caps::Result<std::unique_ptr<caps::Source>> source = caps::open_dir_source(root);
  if (!source) {
    std::cerr << "bench_probe: error: " << source.error().to_string() << '\n';
    std::exit(1);
  }
  return std::move(*source);
}

std::size_t count_diagnostics(const caps::Host& host) {
  std::size_t n = host.diagnostics.size();
  for (const caps::Unit& u : host.units) n += u.diagnostics.size();
  return n;
}

/// Phase timings of one probe run, in milliseconds.
struct ProbeTimes {
  double total = 0;
  double read_host = 0;
  double format = 0;
};

/// The probe pipeline, timed: open_dir_source + read_host + format_json into a string.
ProbeTimes time_probe(const std::string& root, ProbeOutput* output = nullptr) {
  const Clock::time_point start = Clock::now();
  std::unique_ptr<caps::Source> source = open_source(root);
  const Clock::time_point read_start = Clock::now();
  caps::Host host = caps::read_host(*source);
  const Clock::time_point format_start = Clock::now();
  std::ostringstream out;
  tools::format_json(host, out);
  std::string json = std::move(out).str();
  ProbeTimes times;
  times.total = ms_since(start);
  times.read_host = std::chrono::duration<double, std::milli>(format_start - read_start).count();
  times.format = ms_since(format_start);
  keep(json.size());
  if (output != nullptr) {
    *output = ProbeOutput{host.units.size(), host.devices.size(), host.groups.size(),
                          count_diagnostics(host), json.size()};
  }
  return times;
}

/// One probe run through a RecordingSource: the operations it performed, in order.
std::vector<Op> record_probe(const std::string& root) {
  std::unique_ptr<caps::Source> source = open_source(root);
  std::vector<Op> log;
  RecordingSource recorder(*source, log);
  caps::Host host = caps::read_host(recorder);
  std::ostringstream out;
  tools::format_json(host, out);
  keep(out.tellp());
  return log;
}

/// An operation ready to replay: the absolute path is built before timing starts.
struct ReplayOp {
  OpKind kind;
  std::string abs;
  std::size_t limit;
  std::vector<Range> ranges;
};

/// The log as replay operations; `root` empty keeps the paths root-relative.
std::vector<ReplayOp> prepare_replay(const std::string& root, const std::vector<Op>& log) {
  std::vector<ReplayOp> ops;
  ops.reserve(log.size());
  for (const Op& op : log) {
    ops.push_back({op.kind, root.empty() ? op.path : root + "/" + op.path, op.limit, op.ranges});
  }
  return ops;
}

/// The positioned reads of one opened file; the bytes read.
std::size_t pread_ranges(int fd, const std::vector<Range>& ranges, std::vector<char>& buffer) {
  std::size_t bytes = 0;
  for (const auto& [offset, length] : ranges) {
    const ssize_t n =
        ::pread(fd, buffer.data(), std::min(length, buffer.size()), static_cast<off_t>(offset));
    if (n > 0) bytes += static_cast<std::size_t>(n);
  }
  return bytes;
}

/// The floor: every operation of the log with plain syscalls, nothing parsed. Files are read
/// until EOF or until one byte past the limit, as a bounded reader must. Returns the number
/// of operations performed.
std::size_t replay(const std::vector<ReplayOp>& ops, std::vector<char>& buffer) {
  std::size_t done = 0;
  std::size_t bytes = 0;
  char link[PATH_MAX];
  std::string link_parent;  // the directory open as link_fd
  int link_fd = -1;
  const auto close_link_parent = [&] {
    if (link_fd >= 0) ::close(link_fd);
    link_fd = -1;
    link_parent.clear();
  };
  for (const ReplayOp& op : ops) {
    ++done;
    if (op.kind != OpKind::kReadLink) close_link_parent();
    switch (op.kind) {
      case OpKind::kReadFile: {
        const int fd = ::open(op.abs.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) break;
        std::size_t total = 0;
        while (total <= op.limit) {
          const std::size_t want = std::min(buffer.size(), op.limit + 1 - total);
          const ssize_t n = ::read(fd, buffer.data(), want);
          if (n <= 0) break;
          total += static_cast<std::size_t>(n);
        }
        bytes += total;
        ::close(fd);
        break;
      }
      case OpKind::kPositioned: {
        const int fd = ::open(op.abs.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) break;
        bytes += pread_ranges(fd, op.ranges, buffer);
        ::close(fd);
        break;
      }
      case OpKind::kListDir: {
        DIR* dir = ::opendir(op.abs.c_str());
        if (dir == nullptr) break;
        while (const dirent* entry = ::readdir(dir)) bytes += entry->d_reclen;
        ::closedir(dir);
        break;
      }
      case OpKind::kReadLink: {
        const ssize_t n = ::readlink(op.abs.c_str(), link, sizeof link);
        if (n > 0) bytes += static_cast<std::size_t>(n);
        break;
      }
    }
  }
  keep(bytes);
  return done;
}

double time_replay(const std::vector<ReplayOp>& ops, std::vector<char>& buffer,
                   std::size_t* count = nullptr) {
  const Clock::time_point start = Clock::now();
  const std::size_t n = replay(ops, buffer);
  const double ms = ms_since(start);
  if (count != nullptr) *count = n;
  return ms;
}

/// openat2 beneath `root_fd`, as the directory backend resolves paths; -1 and errno on failure.
int open_beneath(int root_fd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root_fd, path, &how, sizeof how));
}

/// The "safe floor", a diagnostic beside the real floor: the same operations with the syscalls
/// the directory backend makes (openat2 RESOLVE_BENEATH on a root fd, fstat before reading,
/// getdents64 on the O_DIRECTORY descriptor, readlinkat in an O_PATH parent opened once for
/// consecutive links in one directory, as Source::read_links), still parsing nothing. The gap
/// between the two floors is the price of never leaving the root; the gap above this one is the
/// library's own. `ops` holds root-relative paths here.
std::size_t replay_beneath(int root_fd, const std::vector<ReplayOp>& ops,
                           std::vector<char>& buffer) {
  std::size_t done = 0;
  std::size_t bytes = 0;
  char link[PATH_MAX];
  std::string link_parent;  // the directory open as link_fd
  int link_fd = -1;
  const auto close_link_parent = [&] {
    if (link_fd >= 0) ::close(link_fd);
    link_fd = -1;
    link_parent.clear();
  };
  for (const ReplayOp& op : ops) {
    ++done;
    if (op.kind != OpKind::kReadLink) close_link_parent();
    switch (op.kind) {
      case OpKind::kReadFile: {
        const int fd = open_beneath(root_fd, op.abs.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) break;
        struct stat st {};
        ::fstat(fd, &st);
        std::size_t total = 0;
        while (total <= op.limit) {
          const std::size_t want = std::min(buffer.size(), op.limit + 1 - total);
          const ssize_t n = ::read(fd, buffer.data(), want);
          if (n <= 0) break;
          total += static_cast<std::size_t>(n);
        }
        bytes += total + static_cast<std::size_t>(st.st_size);
        ::close(fd);
        break;
      }
      case OpKind::kPositioned: {
        const int fd = open_beneath(root_fd, op.abs.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) break;
        struct stat st {};
        ::fstat(fd, &st);
        bytes += pread_ranges(fd, op.ranges, buffer) + static_cast<std::size_t>(st.st_size);
        ::close(fd);
        break;
      }
      case OpKind::kListDir: {
        const int fd = open_beneath(root_fd, op.abs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) break;
        while (true) {
          const ssize_t n = ::getdents64(fd, buffer.data(), buffer.size());
          if (n <= 0) break;
          bytes += static_cast<std::size_t>(n);
        }
        ::close(fd);
        break;
      }
      case OpKind::kReadLink: {
        const std::size_t slash = op.abs.rfind('/');
        const std::string parent = slash == std::string::npos ? "." : op.abs.substr(0, slash);
        if (link_fd < 0 || parent != link_parent) {
          close_link_parent();
          link_fd = open_beneath(root_fd, parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
          if (link_fd < 0) break;
          link_parent = parent;
        }
        const ssize_t n = ::readlinkat(link_fd, op.abs.c_str() + slash + 1, link, sizeof link);
        if (n > 0) bytes += static_cast<std::size_t>(n);
        break;
      }
    }
  }
  close_link_parent();
  keep(bytes);
  return done;
}

/// Times replay_beneath; a negative result means openat2 is not available here.
double time_replay_beneath(const std::string& root, const std::vector<ReplayOp>& ops,
                           std::vector<char>& buffer) {
  const int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) die("open " + root);
  if (open_beneath(root_fd, ".", O_PATH) < 0 && errno == ENOSYS) {
    ::close(root_fd);
    return -1;
  }
  const Clock::time_point start = Clock::now();
  replay_beneath(root_fd, ops, buffer);
  const double ms = ms_since(start);
  ::close(root_fd);
  return ms;
}

// ---------------------------------------------------------------------------------------------
// The whole binary, for context: process start, option parsing, reading, formatting, writing.

/// How one process run went.
struct Exec {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system time of the child: what load from other processes hides
  int status = 0;
};

/// Runs `argv` with stdout and stderr on /dev/null.
Exec time_exec(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const Clock::time_point start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) < 0) die("wait4");
  Exec out;
  out.wall_ms = ms_since(start);
  const auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  out.cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct Options {
  std::vector<int> sizes = {1, 4, 16, 64, 256, 1024, 4096};
  int min_runs = 7;
  double min_seconds = 0.3;  // per size and side: small trees get more runs
  std::string probe_bin = IOMMU_BINARY_DIR "/tools/iommu-probe";
  std::string floor_bin = IOMMU_BINARY_DIR "/tests/bench/floor_reader";
  int pairs = 7;           // whole-process pairs on the largest tree
  std::string ops_log;     // keep floor_reader's log here (default: beside the tree, removed)
  bool profile = false;    // only the probe loop on the first size, for callgrind or perf
  std::string write_tree;  // only write the tree of the first size there, and keep it
  std::string tree;        // measure this tree (written by --write-tree) instead of writing one
  int profile_runs = 20;
};

struct Row {
  int units = 0;
  std::size_t probe_ops = 0;
  std::size_t floor_ops = 0;
  int runs = 0;
  Summary probe;
  Summary floor;
  Summary safe_floor;  // best < 0: openat2 unavailable
  Summary read_host;
  Summary format;
  double rss_mib = 0;
  ProbeOutput output;
};

void usage() {
  std::cerr << "usage: bench_probe [--sizes N,N,...] [--runs K] [--probe-bin PATH]\n"
               "                   [--floor-bin PATH] [--pairs K] [--ops-log FILE]\n"
               "                   [--write-tree N DIR] [--tree N DIR]\n"
               "                   [--profile N [--profile-runs K]]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--sizes") {
      options.sizes.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) {
        options.sizes.push_back(std::atoi(item.c_str()));
      }
    } else if (arg == "--runs") {
      options.min_runs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--probe-bin") {
      options.probe_bin = value();
    } else if (arg == "--floor-bin") {
      options.floor_bin = value();
    } else if (arg == "--pairs") {
      options.pairs = std::max(1, std::atoi(value().c_str()));
    } else if (arg == "--ops-log") {
      options.ops_log = value();
    } else if (arg == "--profile") {
      options.profile = true;
      options.sizes = {std::atoi(value().c_str())};
    } else if (arg == "--tree") {
      options.sizes = {std::atoi(value().c_str())};
      options.tree = value();
    } else if (arg == "--write-tree") {
      options.sizes = {std::atoi(value().c_str())};
      options.write_tree = value();
    } else if (arg == "--profile-runs") {
      options.profile_runs = std::max(1, std::atoi(value().c_str()));
    } else {
      usage();
    }
  }
  if (options.sizes.empty()) usage();
  return options;
}

Row measure(const std::string& root, int units, const Options& options) {
  Row row;
  row.units = units;
  // Warm-up: fills the page cache and the dentry cache, and records the operations.
  time_probe(root, &row.output);
  const std::vector<Op> log = record_probe(root);
  row.probe_ops = log.size();
  if (record_probe(root).size() != log.size()) {
    std::cerr << "bench_probe: warning: two probe runs performed different operation counts\n";
  }
  const std::vector<ReplayOp> ops = prepare_replay(root, log);
  const std::vector<ReplayOp> relative_ops = prepare_replay("", log);
  std::vector<char> buffer(64 * 1024);
  time_replay(ops, buffer, &row.floor_ops);

  std::vector<double> probe, floor, safe_floor, read_host, format;
  const Clock::time_point start = Clock::now();
  // Interleaved, so drift (other load, frequency) hits both sides alike.
  while (static_cast<int>(probe.size()) < options.min_runs ||
         ms_since(start) < 2 * 1000 * options.min_seconds) {
    const ProbeTimes t = time_probe(root);
    probe.push_back(t.total);
    read_host.push_back(t.read_host);
    format.push_back(t.format);
    floor.push_back(time_replay(ops, buffer));
    safe_floor.push_back(time_replay_beneath(root, relative_ops, buffer));
    if (probe.size() >= 1000) break;
  }
  row.runs = static_cast<int>(probe.size());
  row.probe = summarize(probe);
  row.floor = summarize(floor);
  row.safe_floor = summarize(safe_floor);
  row.read_host = summarize(read_host);
  row.format = summarize(format);
  row.rss_mib = peak_rss_mib();
  return row;
}

void print_table(const std::vector<Row>& rows) {
  std::printf(
      "\nprobe = open_dir_source + read_host + format_json (in-process); floor = the same\n"
      "operations replayed with open/read/close, opendir/readdir/closedir, readlink.\n"
      "Times in ms, best / median of the runs after a warm-up; page cache warm.\n\n");
  std::printf("%6s %9s %9s %5s %19s %19s %11s %10s %10s %8s\n", "N", "ops", "floor ops", "runs",
              "probe ms best/med", "floor ms best/med", "ratio b/m", "probe us/N", "floor us/N",
              "RSS MiB");
  for (const Row& r : rows) {
    std::printf("%6d %9zu %9zu %5d %9.3f/%9.3f %9.3f/%9.3f %5.2f/%5.2f %10.1f %10.1f %8.1f\n",
                r.units, r.probe_ops, r.floor_ops, r.runs, r.probe.best, r.probe.median,
                r.floor.best, r.floor.median, r.probe.best / r.floor.best,
                r.probe.median / r.floor.median, 1000.0 * r.probe.median / r.units,
                1000.0 * r.floor.median / r.units, r.rss_mib);
  }
  std::printf(
      "(us/N from medians; RSS is the process peak so far, sizes run in ascending order)\n");
  std::printf("\nWhere the probe's time goes (medians, ms):\n\n");
  std::printf(
      "(safe floor: the same operations with the backend's syscalls, openat2 RESOLVE_BENEATH +\n"
      "fstat + read, getdents64, readlinkat in an O_PATH parent opened once per device;\n"
      "still parsing nothing)\n\n");
  std::printf("%6s %10s %10s %10s %10s %10s %10s %9s %6s %7s %7s %5s\n", "N", "read_host", "format",
              "floor", "safe floor", "read-floor", "read-safe", "JSON KiB", "units", "devices",
              "groups", "diags");
  for (const Row& r : rows) {
    std::printf("%6d %10.3f %10.3f %10.3f %10.3f %10.3f %10.3f %9.1f %6zu %7zu %7zu %5zu\n",
                r.units, r.read_host.median, r.format.median, r.floor.median, r.safe_floor.median,
                r.read_host.median - r.floor.median, r.read_host.median - r.safe_floor.median,
                r.output.json_bytes / 1024.0, r.output.units, r.output.devices, r.output.groups,
                r.output.diagnostics);
  }
}

void print_verdicts(const std::vector<Row>& rows) {
  const Row* small = nullptr;  // the smallest size with at least 256 units, for linearity
  for (const Row& r : rows) {
    if (r.units >= 256 && (small == nullptr || r.units < small->units)) small = &r;
  }
  const Row& big = rows.back();
  auto verdict = [](bool ok) { return ok ? "met" : "NOT met"; };
  std::printf("\n");
  if (small != nullptr && small != &big) {
    const double a = small->probe.median / small->units;
    const double b = big.probe.median / big.units;
    const double fa = small->floor.median / small->units;
    const double fb = big.floor.median / big.units;
    std::printf(
        "linearity: probe us/unit %.1f at N=%d vs %.1f at N=%d (x%.2f): %s;\n"
        "           floor us/unit %.1f vs %.1f (x%.2f), probe/floor per unit x%.2f vs x%.2f\n",
        1000 * a, small->units, 1000 * b, big.units, b / a,
        b / a <= 1.33 && b / a >= 0.75 ? "roughly flat, growth is linear in N"
                                       : "NOT flat, growth is not linear in N",
        1000 * fa, 1000 * fb, fb / fa, a / fa, b / fb);
  }
  const double median = big.probe.median / big.floor.median;
  const double best = big.probe.best / big.floor.best;
  std::printf(
      "goal (probe within 1.5x of the floor at N=%d): median ratio %.2f: %s; best ratio "
      "%.2f: %s\n",
      big.units, median, verdict(median <= 1.5), best, verdict(best <= 1.5));
  std::printf("operations: probe %zu, floor %zu: %s\n", big.probe_ops, big.floor_ops,
              big.probe_ops == big.floor_ops ? "same" : "DIFFERENT");
}

/// The operations as floor_reader's log: one line each, absolute paths (floor_reader.c).
void write_ops_log(const std::string& file, const std::string& root, const std::vector<Op>& log) {
  std::string text;
  for (const Op& op : log) {
    const std::string abs = root + "/" + op.path;
    switch (op.kind) {
      case OpKind::kReadFile:
        text += "R " + std::to_string(op.limit) + " " + abs + "\n";
        break;
      case OpKind::kPositioned:
        text += "P " + std::to_string(op.ranges.size());
        for (const auto& [offset, length] : op.ranges) {
          text += " " + std::to_string(offset) + " " + std::to_string(length);
        }
        text += " " + abs + "\n";
        break;
      case OpKind::kListDir:
        text += "D " + abs + "\n";
        break;
      case OpKind::kReadLink:
        text += "L " + abs + "\n";
        break;
    }
  }
  std::FILE* out = std::fopen(file.c_str(), "w");
  if (out == nullptr || std::fwrite(text.data(), 1, text.size(), out) != text.size() ||
      std::fclose(out) != 0) {
    die("write " + file);
  }
}

/// Whole processes on the largest tree: iommu-probe --format json >/dev/null against
/// floor_reader replaying the probe's operations, in pairs (floor, then probe). Returns the
/// lines to print after the tables.
std::string time_processes(const Options& options, const std::string& root, int units,
                           const Row& in_process) {
  char text[1024];
  for (const std::string& bin : {options.probe_bin, options.floor_bin}) {
    if (::access(bin.c_str(), X_OK) != 0) {
      std::snprintf(text, sizeof text, "\nwhole processes: %s not found (skipped)\n", bin.c_str());
      return text;
    }
  }
  const std::string log_file = options.ops_log.empty() ? root + ".ops" : options.ops_log;
  write_ops_log(log_file, root, record_probe(root));
  const std::vector<std::string> probe = {options.probe_bin, "--sysfs-root", root, "--format",
                                          "json"};
  const std::vector<std::string> floor = {options.floor_bin, log_file};
  time_exec(floor);  // warm-up
  const int status = time_exec(probe).status;
  std::vector<double> probe_ms, floor_ms, ratios, probe_cpu, floor_cpu, cpu_ratios;
  for (int i = 0; i < options.pairs; ++i) {
    const Exec f = time_exec(floor);
    const Exec p = time_exec(probe);
    floor_ms.push_back(f.wall_ms);
    probe_ms.push_back(p.wall_ms);
    ratios.push_back(p.wall_ms / f.wall_ms);
    floor_cpu.push_back(f.cpu_ms);
    probe_cpu.push_back(p.cpu_ms);
    cpu_ratios.push_back(p.cpu_ms / f.cpu_ms);
  }
  if (options.ops_log.empty()) ::unlink(log_file.c_str());
  const Summary p = summarize(probe_ms);
  const Summary f = summarize(floor_ms);
  const Summary r = summarize(ratios);
  const Summary pc = summarize(probe_cpu);
  const Summary fc = summarize(floor_cpu);
  const Summary rc = summarize(cpu_ratios);
  std::snprintf(
      text, sizeof text,
      "\nwhole processes on the tree N=%d, %d pairs (floor_reader, then iommu-probe):\n"
      "  iommu-probe --sysfs-root <tree> --format json >/dev/null: wall best %.1f ms, median "
      "%.1f ms; CPU median %.1f ms; exit status %d\n"
      "  floor_reader <ops log>: wall best %.1f ms, median %.1f ms; CPU median %.1f ms\n"
      "  ratio probe/floor per pair, wall: median %.2f (best pair %.2f): goal 1.5x %s\n"
      "  ratio probe/floor per pair, CPU (user+sys): median %.2f (best pair %.2f)\n"
      "  process start + CLI + output beyond the in-process probe: %.1f ms\n",
      units, options.pairs, p.best, p.median, pc.median, status, f.best, f.median, fc.median,
      r.median, r.best, r.median <= 1.5 ? "met" : "NOT met", rc.median, rc.best,
      p.median - in_process.probe.median);
  return text;
}

int run_profile(const Options& options) {
  TempDir tmp("bench-probe");
  const int units = options.sizes.front();
  write_host(tmp.path(), units);
  time_probe(tmp.path());
  std::vector<double> samples;
  for (int i = 0; i < options.profile_runs; ++i) samples.push_back(time_probe(tmp.path()).total);
  const Summary s = summarize(samples);
  std::printf("profile: N=%d, %d probe runs, best %.3f ms, median %.3f ms\n", units,
              options.profile_runs, s.best, s.median);
  return 0;
}

int run(const Options& options) {
  if (options.profile) return run_profile(options);
  if (!options.write_tree.empty()) {
    write_host(options.write_tree, options.sizes.front());
    return 0;
  }
  TempDir tmp("bench-probe");
  std::vector<Row> rows;
  std::string binary;
  for (int units : options.sizes) {
    const std::string root =
        options.tree.empty() ? tmp.path() + "/n" + std::to_string(units) : options.tree;
    const Clock::time_point start = Clock::now();
    if (options.tree.empty()) write_host(root, units);
    std::fprintf(stderr, "bench_probe: N=%d tree written in %.1f s, measuring...\n", units,
                 ms_since(start) / 1000);
    rows.push_back(measure(root, units, options));
    if (units == options.sizes.back()) binary = time_processes(options, root, units, rows.back());
    // One tree at a time keeps the disk footprint at that of the largest tree.
    std::error_code ignored;
    if (options.tree.empty()) std::filesystem::remove_all(root, ignored);
  }
  print_table(rows);
  print_verdicts(rows);
  std::printf("%s", binary.c_str());
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) { return bench::run(bench::parse_options(argc, argv)); }
