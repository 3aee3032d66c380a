// SPDX-License-Identifier: MIT
// Hostile sysfs trees: each is built at test time under the build directory (FIFOs, device
// nodes, permission bits, 50 MB files and 10,000 units cannot live in git), then read by the
// real iommu-probe binary in JSON and text. Every case must end in bounded time and memory
// with exit 0 or 1 (never a signal), valid JSON, and a diagnostic that names the path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "json_check.h"
#include "subprocess.h"
#include "tree.h"

namespace hostile {
namespace {

namespace fs = std::filesystem;

/// Each probe run's deadline. It only guards against a hang (a FIFO opened blocking, a loop
/// followed forever): a loaded 2-core CI machine runs the 10,000-unit probe many times slower
/// than a quiet one, so no performance bound belongs here.
constexpr int kHangGuardMs = 5 * 60 * 1000;
/// 1 GiB of address space; not under ASan, which maps terabytes of shadow memory.
constexpr unsigned long long kAddressSpaceLimit = 1ull << 30;
#ifdef HOSTILE_SANITIZED
constexpr bool kSanitized = true;
constexpr long kMaxRssKib = 512 * 1024;
#else
constexpr bool kSanitized = false;
constexpr long kMaxRssKib = 256 * 1024;
#endif

constexpr std::string_view kCap = "class/iommu/dmar0/intel-iommu/cap";

std::string error_line(std::string_view path, std::string_view message) {
  return "iommu-probe: error: " + std::string(path) + ": " + std::string(message) + "\n";
}

/// The names of the JSON output's units, in order.
std::vector<std::string> unit_names(const Json& doc) {
  std::vector<std::string> names;
  const Json* units = doc.get("units");
  if (units == nullptr) return names;
  for (const Json& u : units->items) {
    const Json* name = u.get("name");
    names.push_back(name != nullptr ? name->text : "<no name>");
  }
  return names;
}

const Json* find_unit(const Json& doc, std::string_view name) {
  const Json* units = doc.get("units");
  if (units == nullptr) return nullptr;
  for (const Json& u : units->items) {
    const Json* n = u.get("name");
    if (n != nullptr && n->text == name) return &u;
  }
  return nullptr;
}

/// Whether the unit's JSON has register `file` ("cap", "ecap").
bool has_register(const Json& unit, std::string_view file) {
  const Json* registers = unit.get("registers");
  return registers != nullptr && registers->get(file) != nullptr;
}

enum class Backend { kDir, kUdev };

struct ProbeOptions {
  Backend backend = Backend::kDir;
  /// With kUdev: UMOCKDEV_DIR instead of the tree's absolute path, and the probe's working
  /// directory (a relative UMOCKDEV_DIR is taken from there).
  std::string umockdev_dir;
  std::string cwd;
  bool unprivileged = false;
  std::vector<std::string> extra_args;
  long max_rss_kib = kMaxRssKib;
};

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = fs::path(IOMMU_BINARY_DIR) / "hostile-trees" / info->name();
    unlock(base_);
    fs::remove_all(base_);
    fs::create_directories(base_);
    fs::permissions(base_, fs::perms(0755));
    tree_ = std::make_unique<Tree>(base_ / "root");
  }

  void TearDown() override {
    // Kept when a test failed, to look at; HOSTILE_KEEP_TREES=1 keeps them all.
    if (HasFailure() || std::getenv("HOSTILE_KEEP_TREES") != nullptr) return;
    unlock(base_);
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  /// Gives the owner full access everywhere below `dir` again (chmod 000 in some tests).
  static void unlock(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(dir, ec))) return;
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_symlink(ec) || !it->is_directory(ec)) continue;
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }

  Tree& tree() { return *tree_; }
  const fs::path& base() const { return base_; }

  /// One iommu-probe run; checks what every run must give (no signal, no timeout, exit 0 or
  /// 1, bounded memory) and reports time and peak memory.
  RunResult run_probe(const std::string& format, const ProbeOptions& options) {
    RunOptions run_options;
    run_options.args = {IOMMU_PROBE_PATH, "--format", format};
    run_options.unset_env = {"LD_PRELOAD", "UMOCKDEV_DIR"};
    if (options.backend == Backend::kDir) {
      run_options.args.insert(run_options.args.end(),
                              {"--backend", "dir", "--sysfs-root", tree_->root().string()});
    } else {
      run_options.args.insert(run_options.args.end(), {"--backend", "udev"});
      run_options.set_env = {
          std::string("LD_PRELOAD=") + UMOCKDEV_PRELOAD_PATH,
          "UMOCKDEV_DIR=" +
              (options.umockdev_dir.empty() ? tree_->root().string() : options.umockdev_dir)};
      run_options.cwd = options.cwd;
      if (kSanitized) {
        // ASan insists on being first in the library list, which the preload breaks.
        const char* asan = std::getenv("ASAN_OPTIONS");
        run_options.set_env.push_back(std::string("ASAN_OPTIONS=") + (asan ? asan : "") +
                                      ":verify_asan_link_order=0");
      }
    }
    run_options.args.insert(run_options.args.end(), options.extra_args.begin(),
                            options.extra_args.end());
    run_options.timeout_ms = kHangGuardMs;
    run_options.address_space_limit = kSanitized ? 0 : kAddressSpaceLimit;
    run_options.unprivileged = options.unprivileged;
    RunResult result = run(run_options);

    const std::string what = "iommu-probe --format " + format + " on " + tree_->root().string();
    EXPECT_TRUE(result.started) << what << ": " << result.describe();
    EXPECT_FALSE(result.timed_out) << what << ": " << result.describe();
    EXPECT_EQ(result.signal, 0) << what << ": " << result.describe() << "\n" << result.err;
    EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 1)
        << what << ": " << result.describe() << "\n"
        << result.err;
    EXPECT_LT(result.max_rss_kib, options.max_rss_kib) << what;
    RecordProperty(format + "_seconds", std::to_string(result.seconds));
    RecordProperty(format + "_max_rss_kib", std::to_string(result.max_rss_kib));
    std::printf("[ measure  ] %s: %s in %.3f s, max RSS %.1f MiB\n", format.c_str(),
                result.describe().c_str(), result.seconds, result.max_rss_kib / 1024.0);
    return result;
  }

  /// Probes the tree in JSON and text: both must exit `exit_code` with exactly `diagnostics`
  /// on stderr, and the JSON must be valid. Returns the parsed JSON.
  Json probe(int exit_code, const std::string& diagnostics, const ProbeOptions& options = {}) {
    // Both runs before parsing: a child's peak RSS includes this process's RSS at fork.
    RunResult json_run = run_probe("json", options);
    RunResult text_run = run_probe("text", options);
    EXPECT_EQ(json_run.exit_code, exit_code);
    EXPECT_EQ(json_run.err, diagnostics);
    EXPECT_EQ(text_run.exit_code, exit_code);
    EXPECT_EQ(text_run.err, diagnostics);
    EXPECT_FALSE(text_run.out.empty());
    EXPECT_FALSE(json_run.out.empty());
    JsonParse parsed = parse_json(json_run.out);
    EXPECT_TRUE(parsed.ok()) << "invalid JSON: " << parsed.error << "\n"
                             << json_run.out.substr(0, 2000);
    return parsed.value;
  }

  fs::path cap_path() const { return tree_->unit_dir("dmar0") / "intel-iommu/cap"; }

 private:
  fs::path base_;
  std::unique_ptr<Tree> tree_;
};

// --- Symlink loops -------------------------------------------------------------------------

TEST_F(HostileTest, SymlinkLoopAsUnitDirectory) {
  tree().add_intel_unit("dmar0");
  tree().symlink("loop1", tree().unit_dir("loop0"));
  tree().symlink("loop0", tree().unit_dir("loop1"));
  tree().symlink("../../devices/virtual/iommu/loop0", "sys/class/iommu/loop0");
  Json doc = probe(1, error_line("class/iommu/loop0",
                                 "cannot list unit directory: too many levels of symbolic links"));
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "loop0"}));
}

TEST_F(HostileTest, SymlinkLoopAsAttribute) {
  tree().add_intel_unit("dmar0");
  tree().symlink("cap2", cap_path());
  tree().symlink("cap", cap_path().parent_path() / "cap2");
  Json doc = probe(1, error_line(kCap, "cannot read: too many levels of symbolic links"));
  const Json* unit = find_unit(doc, "dmar0");
  ASSERT_NE(unit, nullptr);
  EXPECT_FALSE(has_register(*unit, "cap"));
  EXPECT_TRUE(has_register(*unit, "ecap"));
}

// --- Symlinks out of the root --------------------------------------------------------------

TEST_F(HostileTest, AttributeLinkEscapesAbsolute) {
  tree().add_intel_unit("dmar0");
  tree().symlink("/etc/passwd", cap_path());
  Json doc = probe(1, error_line(kCap, "cannot read: escapes the root"));
  const Json* unit = find_unit(doc, "dmar0");
  ASSERT_NE(unit, nullptr);
  EXPECT_FALSE(has_register(*unit, "cap"));
}

TEST_F(HostileTest, AttributeLinkEscapesRelative) {
  tree().add_intel_unit("dmar0");
  // intel-iommu, dmar0, iommu, virtual, devices, sys: six levels up is the root; more leave it.
  tree().symlink("../../../../../../../../../../../../etc/passwd", cap_path());
  Json doc = probe(1, error_line(kCap, "cannot read: escapes the root"));
  const Json* unit = find_unit(doc, "dmar0");
  ASSERT_NE(unit, nullptr);
  EXPECT_FALSE(has_register(*unit, "cap"));
}

/// A readable unit outside the root, with a cap value no unit inside has: if the probe ever
/// shows 0x1c0000c40660462, it read outside its root.
fs::path make_outside_unit(const fs::path& base) {
  Tree outside(base / "outside");
  fs::path dir = outside.add_intel_unit("evil");
  outside.write(dir / "intel-iommu/cap", "1c0000c40660462\n");
  return dir;
}

TEST_F(HostileTest, UnitLinkEscapesAbsolute) {
  tree().add_intel_unit("dmar0");
  const fs::path outside = make_outside_unit(base());
  tree().symlink(outside.string(), "sys/class/iommu/evil");
  Json doc =
      probe(1, error_line("class/iommu/evil", "cannot list unit directory: escapes the root"));
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "evil"}));
  EXPECT_FALSE(has_register(*find_unit(doc, "evil"), "cap"));
}

TEST_F(HostileTest, UnitLinkEscapesRelative) {
  tree().add_intel_unit("dmar0");
  make_outside_unit(base());
  // From root/sys/class/iommu, ../../.. is the root; one more is base().
  tree().symlink("../../../../outside/sys/devices/virtual/iommu/evil", "sys/class/iommu/evil");
  Json doc =
      probe(1, error_line("class/iommu/evil", "cannot list unit directory: escapes the root"));
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "evil"}));
  EXPECT_FALSE(has_register(*find_unit(doc, "evil"), "cap"));
}

// --- Not a regular file ---------------------------------------------------------------------

TEST_F(HostileTest, DirectoryAsAttribute) {
  tree().add_intel_unit("dmar0");
  tree().remove(cap_path());
  tree().write(cap_path() / "cap", "d2008c40660462\n");
  probe(1, error_line(kCap, "cannot read: not a regular file"));
}

TEST_F(HostileTest, FifoAsAttribute) {
  tree().add_intel_unit("dmar0");
  const std::string error = make_fifo(cap_path());
  ASSERT_EQ(error, "");
  // Opened non-blocking, so no writer is needed for the open to return; then rejected.
  probe(1, error_line(kCap, "cannot read: not a regular file"));
}

TEST_F(HostileTest, SocketAsAttribute) {
  tree().add_intel_unit("dmar0");
  const std::string error = make_socket(cap_path());
  ASSERT_EQ(error, "");
  ASSERT_TRUE(fs::is_socket(cap_path()));
  probe(1, error_line(kCap, "cannot read: not a regular file"));
}

TEST_F(HostileTest, CharDeviceAsAttribute) {
  tree().add_intel_unit("dmar0");
  // 1:5 is /dev/zero: endless if it were ever read.
  const std::string error = make_char_device(cap_path(), 1, 5);
  if (!error.empty()) GTEST_SKIP() << "cannot mknod (needs root and CAP_MKNOD): " << error;
  probe(1, error_line(kCap, "cannot read: not a regular file"));
}

// --- Size ----------------------------------------------------------------------------------

TEST_F(HostileTest, HugeAttribute) {
  tree().add_intel_unit("dmar0");
  {
    // 50 MB that a reader would have to allocate if it read the whole file: valid hex first,
    // then zeros (sparse, so the test costs no disk).
    std::ofstream out(cap_path(), std::ios::binary | std::ios::trunc);
    out << "d2008c40660462\n";
  }
  fs::resize_file(cap_path(), 50u << 20);
  ProbeOptions options;
  // A run that read the file would need 50 MB for it alone.
  options.max_rss_kib = (kSanitized ? 160 : 40) * 1024;
  probe(1, error_line(kCap, "cannot read: larger than 4096 bytes"), options);
}

// --- Bytes that are not text ---------------------------------------------------------------

TEST_F(HostileTest, NonUtf8AndNulInRegister) {
  tree().add_intel_unit("dmar0");
  tree().write(cap_path(), "d2\xff\xfe\n");
  tree().write(tree().unit_dir("dmar0") / "intel-iommu/ecap", std::string("f0\0"
                                                                          "50da\n",
                                                                          7));
  // libcaps quotes the value as "d2\xff\xfe"; the tool prints that message as it is.
  probe(1, error_line(kCap, R"(not bare hex: "d2\xff\xfe" has "\xff" at offset 2)") +
               error_line("class/iommu/dmar0/intel-iommu/ecap",
                          R"(not bare hex: "f0\x0050da" has "\x00" at offset 2)"));
}

TEST_F(HostileTest, NonUtf8AndNulInGenericProperty) {
  const fs::path dir = tree().add_generic_unit("smmu0");
  tree().write(dir / "arm-smmu-v3/vendor_note", std::string("ab\xff\0cd\n", 7));
  tree().write(dir / "arm-smmu-v3/httu", std::string("access\0+dirty\n", 14));
  Json doc = probe(
      1, error_line("class/iommu/smmu0/arm-smmu-v3/httu", R"(unknown value "access\x00+dirty")"));
  const Json* unit = find_unit(doc, "smmu0");
  ASSERT_NE(unit, nullptr);
  const Json* properties = unit->get("properties");
  ASSERT_NE(properties, nullptr);
  const Json* note = properties->get("vendor_note");
  ASSERT_NE(note, nullptr);
  // Not UTF-8 becomes U+FFFD; NUL survives as \u0000.
  EXPECT_EQ(note->text, std::string("ab\xEF\xBF\xBD\0cd", 8));
}

TEST_F(HostileTest, NonUtf8AndControlBytesInUnitName) {
  tree().add_intel_unit("dmar\xff\x01");
  Json doc = probe(0, "");
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar\xEF\xBF\xBD\x01"}));
}

TEST_F(HostileTest, QuotesBackslashesAndNewlinesInUnitNames) {
  for (const char* name : {"dm\"ar", "dm\\ar", "dm\nar", "dmar0"}) tree().add_intel_unit(name);
  tree().write(tree().unit_dir("dm\nar") / "intel-iommu/cap", "zz\n");
  Json doc = probe(1, error_line("class/iommu/dm\\x0aar/intel-iommu/cap",
                                 R"(not bare hex: "zz" has "z" at offset 0)"));
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dm\nar", "dm\"ar", "dm\\ar", "dmar0"}));
}

// --- Numbers -------------------------------------------------------------------------------

TEST_F(HostileTest, RegisterOverflowing64Bits) {
  tree().add_intel_unit("dmar0");
  tree().write(cap_path(), "1d2008c40660462ab\n");  // 17 hex digits
  probe(1, error_line(kCap, R"(more than 16 hex digits in "1d2008c40660462ab")"));
}

TEST_F(HostileTest, DecimalOverflowing64Bits) {
  const fs::path dir = tree().add_generic_unit("smmu0");
  tree().write(dir / "arm-smmu-v3/asid_bits", "99999999999999999999\n");
  tree().write(tree().add_intel_unit("dmar0") / "intel-iommu/domains_used",
               "18446744073709551616\n");
  probe(1, error_line("class/iommu/dmar0/intel-iommu/domains_used",
                      R"(decimal value "18446744073709551616" does not fit 64 bits)") +
               error_line("class/iommu/smmu0/arm-smmu-v3/asid_bits",
                          R"(decimal value "99999999999999999999" does not fit 64 bits)"));
}

TEST_F(HostileTest, NegativeNumbers) {
  const fs::path dir = tree().add_generic_unit("smmu0");
  tree().write(dir / "arm-smmu-v3/ssid_bits", "-1\n");
  tree().write(tree().add_intel_unit("dmar0") / "intel-iommu/domains_used", "-1\n");
  probe(1, error_line("class/iommu/dmar0/intel-iommu/domains_used",
                      R"(not a decimal number: "-1" has "-" at offset 0)") +
               error_line("class/iommu/smmu0/arm-smmu-v3/ssid_bits",
                          R"(not a decimal number: "-1" has "-" at offset 0)"));
}

// --- Files that vanish ---------------------------------------------------------------------

TEST_F(HostileTest, DanglingLinks) {
  // Listed but gone when read: the deterministic form of a file removed after readdir.
  tree().add_intel_unit("dmar0");
  tree().symlink("cap.gone", cap_path());
  tree().symlink("../../devices/virtual/iommu/gone", "sys/class/iommu/gone");
  Json doc = probe(1, error_line(kCap, "missing") +
                          error_line("class/iommu/gone", "cannot list unit directory: missing"));
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "gone"}));
}

TEST_F(HostileTest, FilesVanishingWhileRead) {
  for (int i = 0; i < 8; ++i) tree().add_intel_unit("dmar" + std::to_string(i));
  // A writer thread removes and recreates units and attribute files as fast as it can while
  // the probe runs again and again: any interleaving must give a clean result.
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    Tree& t = tree();
    for (unsigned n = 0; !stop; ++n) {
      const std::string unit = "dmar" + std::to_string(n % 8);
      const fs::path cap = t.unit_dir(unit) / "intel-iommu/cap";
      try {
        switch (n % 3) {
          case 0:
            t.remove(cap);
            t.write(cap, "d2008c40660462\n");
            break;
          case 1:
            t.remove(t.unit_dir(unit));
            t.remove("sys/class/iommu/" + unit);
            t.add_intel_unit(unit);
            break;
          default:
            t.remove(t.unit_dir(unit) / "intel-iommu");
            t.add_intel_unit(unit);
            break;
        }
      } catch (const fs::filesystem_error&) {
        // add_intel_unit racing with itself is fine: the next round repairs the tree.
      }
    }
  });
  // At least 3 s of churn and at least 6 runs, however slow a loaded machine makes each run.
  constexpr int kMinRuns = 6;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int runs = 0;
  while ((std::chrono::steady_clock::now() < end || runs < kMinRuns) && !HasFailure()) {
    RunResult result = run_probe(runs % 2 == 0 ? "json" : "text", {});
    if (runs % 2 == 0) {
      JsonParse parsed = parse_json(result.out);
      EXPECT_TRUE(parsed.ok()) << parsed.error;
    }
    // Whatever vanished is reported against its path.
    if (result.exit_code == 1) {
      EXPECT_NE(result.err.find("iommu-probe: error: class/iommu/dmar"), std::string::npos)
          << result.err;
    }
    ++runs;
  }
  stop = true;
  churn.join();
  std::printf("[ measure  ] %d probe runs against a churning tree\n", runs);
}

// --- Permissions ---------------------------------------------------------------------------

TEST_F(HostileTest, PermissionDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the probe as nobody (uid 65534)";
  tree().add_intel_unit("dmar0");
  tree().add_intel_unit("dmar1");
  fs::permissions(cap_path(), fs::perms::none);
  fs::permissions(tree().unit_dir("dmar1"), fs::perms::none);
  // The tree must be reachable by nobody, or the test proves nothing.
  for (fs::path p = base(); p != p.parent_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
      GTEST_SKIP() << p << " is not searchable by others, so nobody cannot reach the tree";
    }
  }
  ProbeOptions options;
  options.unprivileged = true;
  Json doc =
      probe(1,
            error_line(kCap, "cannot read: permission denied") +
                error_line("class/iommu/dmar1", "cannot list unit directory: permission denied"),
            options);
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "dmar1"}));
}

// --- Scale ---------------------------------------------------------------------------------

TEST_F(HostileTest, TenThousandUnits) {
  constexpr int kUnits = 10000;
  const auto start = std::chrono::steady_clock::now();
  // One complete unit, then hard links to its files: a third of the system calls of writing
  // each file, which matters on a loaded CI machine.
  const fs::path model = tree().add_intel_unit("dmar0");
  for (int i = 1; i < kUnits; ++i) {
    const std::string name = "dmar" + std::to_string(i);
    const fs::path dir = tree().unit_dir(name);
    fs::create_directory(dir);
    fs::create_directory(dir / "intel-iommu");
    fs::create_hard_link(model / "uevent", dir / "uevent");
    fs::create_symlink("../../../../class/iommu", dir / "subsystem");
    fs::create_symlink("../../devices/virtual/iommu/" + name,
                       tree().root() / "sys/class/iommu" / name);
    for (const char* file :
         {"cap", "ecap", "version", "address", "domains_supported", "domains_used"}) {
      fs::create_hard_link(model / "intel-iommu" / file, dir / "intel-iommu" / file);
    }
  }
  std::printf("[ measure  ] built %d units in %.1f s\n", kUnits,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  ProbeOptions options;
  // About 15 KiB per unit for the model plus the whole output held in memory once.
  options.max_rss_kib = (kSanitized ? 1536 : 512) * 1024;
  Json doc = probe(0, "", options);
  const std::vector<std::string> names = unit_names(doc);
  ASSERT_EQ(names.size(), static_cast<std::size_t>(kUnits));
  // Natural order: dmar2 before dmar10.
  EXPECT_EQ(names[0], "dmar0");
  EXPECT_EQ(names[2], "dmar2");
  EXPECT_EQ(names[10], "dmar10");
  EXPECT_EQ(names.back(), "dmar9999");
}

// --- The libudev backend under umockdev ----------------------------------------------------

class HostileUdevTest : public HostileTest {
 protected:
  void SetUp() override {
    if (std::string_view(UMOCKDEV_PRELOAD_PATH).empty()) {
      GTEST_SKIP() << "umockdev's libumockdev-preload.so.0 is not installed";
    }
    HostileTest::SetUp();
  }

  static ProbeOptions udev() {
    ProbeOptions options;
    options.backend = Backend::kUdev;
    return options;
  }
};

TEST_F(HostileUdevTest, StrangeUnitNames) {
  for (const char* name : {"dm\"ar", "dm\\ar", "dm\nar", "dmar\xff\x01"}) {
    tree().add_intel_unit(name);
  }
  Json doc = probe(0, "", udev());
  EXPECT_EQ(unit_names(doc),
            (std::vector<std::string>{"dm\nar", "dm\"ar", "dm\\ar", "dmar\xEF\xBF\xBD\x01"}));
}

TEST_F(HostileUdevTest, AttributeLoopEscapeAndDirectory) {
  tree().add_intel_unit("dmar0");
  tree().symlink("cap2", cap_path());
  tree().symlink("cap", cap_path().parent_path() / "cap2");
  tree().symlink("/etc/passwd", tree().add_intel_unit("dmar1") / "intel-iommu/cap");
  const fs::path dmar2_cap = tree().add_intel_unit("dmar2") / "intel-iommu/cap";
  tree().remove(dmar2_cap);
  tree().write(dmar2_cap / "x", "1\n");
  // The directory reader on the same tree checks every attribute before libudev is asked, so
  // the messages are the directory backend's.
  probe(1,
        error_line(kCap, "cannot read: too many levels of symbolic links") +
            error_line("class/iommu/dmar1/intel-iommu/cap", "cannot read: escapes the root") +
            error_line("class/iommu/dmar2/intel-iommu/cap", "cannot read: not a regular file"),
        udev());
}

TEST_F(HostileUdevTest, HugeAttribute) {
  tree().add_intel_unit("dmar0");
  fs::resize_file(cap_path(), 50u << 20);
  // sd-device would read the whole file before saying E2BIG; the backend looks at its size
  // first, so memory stays bounded as with the directory backend.
  ProbeOptions options = udev();
  options.max_rss_kib = (kSanitized ? 256 : 64) * 1024;
  probe(1, error_line(kCap, "cannot read: larger than 4096 bytes"), options);
}

TEST_F(HostileUdevTest, CharDeviceAsAttribute) {
  tree().add_intel_unit("dmar0");
  const std::string error = make_char_device(cap_path(), 1, 5);
  if (!error.empty()) GTEST_SKIP() << "cannot mknod (needs root and CAP_MKNOD): " << error;
  probe(1, error_line(kCap, "cannot read: not a regular file"), udev());
}

// sd-device opens attributes without O_NONBLOCK, so a FIFO would block open() forever (and
// the umockdev preload blocks every signal but SIGKILL while it does): the backend checks the
// file type before asking libudev.
TEST_F(HostileUdevTest, FifoAsAttribute) {
  tree().add_intel_unit("dmar0");
  ASSERT_EQ(make_fifo(cap_path()), "");
  probe(1, error_line(kCap, "cannot read: not a regular file"), udev());
}

/// The probe's JSON without its "source" line (backend and root differ by design).
std::string without_source(const std::string& json) {
  std::string out;
  std::size_t pos = 0;
  while (pos < json.size()) {
    std::size_t end = json.find('\n', pos);
    end = end == std::string::npos ? json.size() : end + 1;
    const std::string_view line(json.data() + pos, end - pos);
    if (line.rfind("  \"source\": ", 0) != 0) out.append(line);
    pos = end;
  }
  return out;
}

// fake-sysfs/README.md's command typed with a relative UMOCKDEV_DIR: libudev saw no unit,
// and the probe said "0 units" with exit 0.
TEST_F(HostileUdevTest, RelativeUmockdevDir) {
  tree().add_intel_unit("dmar0");
  tree().add_generic_unit("smmu0");
  ProbeOptions relative = udev();
  relative.cwd = base().string();
  relative.umockdev_dir = "root";  // base()/root is the tree
  const std::string from_dir = without_source(run_probe("json", {}).out);
  Json doc = probe(0, "", relative);
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "smmu0"}));
  EXPECT_EQ(without_source(run_probe("json", relative).out), from_dir);
}

// The udev backend read the machine's own /proc/cmdline when the tree had none (the preload
// redirects /proc only to files that exist in the tree).
TEST_F(HostileUdevTest, PlatformFilesComeFromTheTree) {
  tree().add_intel_unit("dmar0");
  tree().remove("proc/cmdline");
  const std::string from_dir = without_source(run_probe("json", {}).out);
  Json doc = probe(0, "", udev());
  const Json* platform = doc.get("platform");
  ASSERT_NE(platform, nullptr);
  const Json* cmdline = platform->get("cmdline");
  ASSERT_NE(cmdline, nullptr);
  EXPECT_EQ(cmdline->kind, Json::Kind::kNull) << cmdline->text;
  EXPECT_EQ(without_source(run_probe("json", udev()).out), from_dir);
}

// A class link out of the tree: libudev does not enumerate it, the directory lists it. Both
// backends read it as "escapes the root"; the libudev backend also says what each saw.
TEST_F(HostileUdevTest, UnitLinkEscapes) {
  tree().add_intel_unit("dmar0");
  Tree outside(base() / "outside");
  outside.write(outside.add_intel_unit("evil") / "intel-iommu/cap", "1c0000c40660462\n");
  tree().symlink("../../../../outside/sys/devices/virtual/iommu/evil", "sys/class/iommu/evil");
  // The unit's own diagnostics print before the host's.
  Json doc = probe(1,
                   error_line("class/iommu/evil", "cannot list unit directory: escapes the root") +
                       error_line("class/iommu",
                                  "libudev enumerated 1 units but the directory lists 2; only the "
                                  "directory lists \"evil\"; every unit either one lists is read"),
                   udev());
  EXPECT_EQ(unit_names(doc), (std::vector<std::string>{"dmar0", "evil"}));
  EXPECT_FALSE(has_register(*find_unit(doc, "evil"), "cap"));
}

}  // namespace
}  // namespace hostile
