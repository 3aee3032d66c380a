// SPDX-License-Identifier: MIT
// Verdict safety, end to end: on every fixture host and guest, making any single thing the
// reader reads unreadable or garbage never turns a verdict that was not "compatible" into
// "compatible" (it may become undecided). The same broken hosts, many of them odd, also show
// that decide() and check() without passes agree with check().
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "libcaps/check.h"
#include "libcaps/guest.h"
#include "libcaps/reader.h"
#include "libcaps/source.h"
#include "support/check_agreement.h"
#include "support/sample_hosts.h"

namespace caps {
namespace {

namespace fs = std::filesystem;

enum class Op { kFile, kDir, kLink };
enum class Fault { kDenied, kGarbage };

struct Access {
  Op op;
  std::string path;
};

/// Forwards to a real source, records every access, and can spoil one of them.
class FaultSource : public Source {
 public:
  explicit FaultSource(Source& inner) : inner_(inner) {}

  std::string_view backend() const override { return inner_.backend(); }
  const std::string& root() const override { return inner_.root(); }

  void record_into(std::vector<Access>* log) { log_ = log; }
  void spoil(const Access& access, Fault fault) {
    target_ = access;
    fault_ = fault;
  }

  DirRead list_units() override { return list_dir("sys/class/iommu"); }

  FileRead read_file(std::string_view path, std::size_t limit) override {
    if (hit(Op::kFile, path)) {
      if (fault_ == Fault::kDenied) return {ReadStatus::kDenied, {}, EACCES};
      return {ReadStatus::kOk, "\xff\xfe-1 zz\n", 0};
    }
    return inner_.read_file(path, limit);
  }

  DirRead list_dir(std::string_view path) override {
    if (hit(Op::kDir, path)) {
      if (fault_ == Fault::kDenied) return {ReadStatus::kDenied, {}, EACCES};
      return {ReadStatus::kLoop, {}, ELOOP};
    }
    return inner_.list_dir(path);
  }

  LinkRead read_link(std::string_view path) override {
    if (hit(Op::kLink, path)) {
      if (fault_ == Fault::kDenied) return {ReadStatus::kDenied, {}, EACCES};
      return {ReadStatus::kOk, "../../\xff\n", 0};
    }
    return inner_.read_link(path);
  }

 private:
  bool hit(Op op, std::string_view path) {
    if (log_ != nullptr) log_->push_back({op, std::string(path)});
    return target_ && target_->op == op && target_->path == path;
  }

  Source& inner_;
  std::vector<Access>* log_ = nullptr;
  std::optional<Access> target_;
  Fault fault_ = Fault::kDenied;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// The example guests that parse, plus guests that assign each of the host's devices (group
/// viability, device PASID/ATS/PRI) with a demanding vIOMMU.
std::vector<Guest> guests_for(const Host& host) {
  std::vector<Guest> guests;
  for (const auto& e : fs::directory_iterator(IOMMU_SOURCE_DIR "/tools/iommu-compat/examples")) {
    if (e.path().extension() != ".toml") continue;
    auto guest = parse_guest(slurp(e.path()), e.path().filename().string());
    if (guest) guests.push_back(std::move(*guest));
  }
  std::string model = host.units.empty() ? "virtio-iommu" : host.units[0].model;
  if (model == "unknown") model = "virtio-iommu";
  for (const Device& d : host.devices) {
    std::string text = "[viommu]\nmodel = \"" + model +
                       "\"\nssid_bits = 8\nats = true\npage_requests = true\n"
                       "[[device]]\nbdf = \"" +
                       d.name + "\"\n";
    auto guest = parse_guest(text, "assign-" + d.name + ".toml");
    if (guest) guests.push_back(std::move(*guest));
  }
  return guests;
}

/// Reads the fixture `name` once as it is and then once with each read it makes spoiled
/// each way, calling `visit(host, what)` with a description of the spoiling ("" at first).
template <class Visit>
void for_each_spoiled_host(const std::string& name, Visit&& visit) {
  auto dir = open_dir_source(IOMMU_SOURCE_DIR "/fake-sysfs/hosts/" + name);
  ASSERT_TRUE(dir) << dir.error().to_string();
  FaultSource source(**dir);

  std::vector<Access> accesses;
  source.record_into(&accesses);
  visit(read_host(source), std::string());
  source.record_into(nullptr);
  ASSERT_FALSE(accesses.empty());

  for (const Access& access : accesses) {
    for (Fault fault : {Fault::kDenied, Fault::kGarbage}) {
      source.spoil(access, fault);
      visit(read_host(source),
            access.path + (fault == Fault::kDenied ? " unreadable" : " garbage"));
    }
  }
}

class VerdictSafetyTest : public ::testing::TestWithParam<std::string> {};

TEST_P(VerdictSafetyTest, NoSingleSpoiledReadCertifiesCompatibility) {
  std::vector<Guest> guests;
  std::vector<Verdict> baseline;
  int not_compatible = 0;
  int spoiled = 0;
  for_each_spoiled_host(GetParam(), [&](const Host& host, const std::string& spoiling) {
    if (spoiling.empty()) {
      guests = guests_for(host);
      for (const Guest& g : guests) {
        baseline.push_back(check(g, host).verdict);
        if (baseline.back() != Verdict::kCompatible) ++not_compatible;
      }
      return;
    }
    ++spoiled;
    for (size_t i = 0; i < guests.size(); ++i) {
      if (baseline[i] == Verdict::kCompatible) continue;
      Report report = check(guests[i], host);
      EXPECT_NE(report.verdict, Verdict::kCompatible)
          << guests[i].file << " on " << GetParam() << " became compatible with " << spoiling
          << " (was " << to_string(baseline[i]) << ")";
    }
  });
  // The property is empty unless some pairs start out not compatible.
  if (GetParam() != "no-iommu") {
    EXPECT_GT(not_compatible, 0);
  }
  EXPECT_GT(spoiled, 0);
}

TEST_P(VerdictSafetyTest, DecideAndCheckWithoutPassesAgreeWithCheck) {
  std::vector<Guest> guests;
  int pairs = 0;
  for_each_spoiled_host(GetParam(), [&](const Host& host, const std::string& spoiling) {
    if (spoiling.empty()) guests = guests_for(host);
    for (const Guest& g : guests) {
      ++pairs;
      EXPECT_EQ(testing::check_disagreement(g, host), "")
          << g.file << " on " << GetParam() << (spoiling.empty() ? "" : " with " + spoiling);
    }
  });
  EXPECT_GT(pairs, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, VerdictSafetyTest,
                         ::testing::ValuesIn(testing::fixture_host_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string out = param.param;
                           for (char& c : out) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return out;
                         });

}  // namespace
}  // namespace caps
