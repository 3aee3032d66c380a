// SPDX-License-Identifier: MIT
// fuzz_parse: the strict value parsers, the register decoders and vendor normalizers, and the
// PCI config parser, with the invariants that are cheap to state.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "libcaps/decode.h"
#include "libcaps/parse.h"
#include "libcaps/reader.h"
#include "support/memory_source.h"

namespace caps::fuzz {
namespace {

bool is_hex_digit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool all_hex(std::string_view s) { return std::all_of(s.begin(), s.end(), is_hex_digit); }

/// "0x" + lowercase digits without leading zeros: what format_hex makes of bare hex `digits`.
std::string canonical_hex(std::string_view digits) {
  std::string out;
  for (char c : digits) out += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  out.erase(0, std::min(out.find_first_not_of('0'), out.size() - 1));
  return "0x" + out;
}

void check_hex(std::string_view text) {
  Result<uint64_t> bare = parse_hex(text);
  const bool bare_ok = !text.empty() && text.size() <= 16 && all_hex(text);
  require(bare.has_value() == bare_ok, "parse_hex accepts exactly 1..16 hex digits", quote(text));
  if (bare) {
    require(format_hex(*bare) == canonical_hex(text), "format_hex(parse_hex(s)) is s", quote(text));
  } else {
    require(!bare.error().message.empty(), "parse_hex errors say what was wrong");
  }
  Result<uint64_t> prefixed = parse_hex_prefixed(text);
  std::string_view digits = text.starts_with("0x") ? text.substr(2) : text;
  const bool prefixed_ok = !digits.empty() && digits.size() <= 16 && all_hex(digits);
  require(prefixed.has_value() == prefixed_ok, "parse_hex_prefixed accepts [0x]<1..16 hex>",
          quote(text));
  if (prefixed) {
    require(format_hex(*prefixed) == canonical_hex(digits), "parse_hex_prefixed value",
            quote(text));
  }
}

void check_dec(std::string_view text) {
  Result<uint64_t> value = parse_dec(text);
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    require(!value, "parse_dec rejects anything but digits", quote(text));
    return;
  }
  if (!value) return;  // too large for 64 bits
  std::string_view significant =
      text.substr(std::min(text.find_first_not_of('0'), text.size() - 1));
  require(std::to_string(*value) == significant, "parse_dec value", quote(text));
}

void check_text(std::string_view text) {
  std::string_view trimmed = trim_newlines(text);
  require(text.starts_with(trimmed), "trim_newlines returns a prefix");
  require(trimmed.empty() || (trimmed.back() != '\n' && trimmed.back() != '\r'),
          "trim_newlines leaves no trailing newline");
  std::string_view cut = text.substr(trimmed.size());
  require(cut.find_first_not_of("\r\n") == std::string_view::npos,
          "trim_newlines removes only newlines");

  std::string quoted = quote(text);
  require(quoted.size() >= 2 && quoted.front() == '"', "quote starts with a quote");
  require(quoted.size() <= 2 + 4 * 64 + 3, "quote shows at most 64 bytes");
  require(std::all_of(quoted.begin(), quoted.end(), [](char c) { return c >= 0x20 && c < 0x7f; }),
          "quote output is printable ASCII", quoted);

  check_hex(trimmed);
  check_dec(trimmed);

  Result<AmdFeatures> features = parse_amd_features(trimmed);
  if (features) {
    const std::string& format = features->format;
    require(format == "EFR" || format == "EFR2:EFR" || format == "EFR:EFR2" ||
                format == kAmdFeaturesAmbiguous,
            "features format is one of four", format);
    require(features->order_known() || !features->diagnostics.empty(), "an unknown order is said",
            quote(trimmed));
    require(features->efr2.has_value() == (format != "EFR"), "EFR2 present iff format names it",
            quote(trimmed));
  }
}

uint64_t low_mask(unsigned width) {
  return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
}

const Register& check_decode(const RegisterSpec& spec, uint64_t raw, Register& out) {
  out = decode(spec, raw);
  require(out.raw == raw && out.name == spec.name, "decode keeps name and raw");
  require(out.fields.size() == spec.fields.size(), "decode gives every field");
  require(out.reserved == (raw & spec.reserved_mask), "reserved = raw & mask");
  for (std::size_t i = 0; i < spec.fields.size(); ++i) {
    const FieldSpec& f = spec.fields[i];
    require(f.lo <= f.hi && f.hi < 64, "field bits in range", f.name);
    require((spec.reserved_mask & (low_mask(f.hi - f.lo + 1) << f.lo)) == 0,
            "reserved bits do not overlap a field", f.name);
    require(out.fields[i].name == f.name, "field names in table order", f.name);
    require(out.fields[i].value == ((raw >> f.lo) & low_mask(f.hi - f.lo + 1)), "field value",
            f.name);
  }
  return out;
}

void check_width(const std::optional<int>& bits, int lo, int hi, std::string_view name) {
  if (bits) require(*bits >= lo && *bits <= hi, "normalized width in range", name);
}

/// Every known property says why it has its value (the checker quotes the evidence).
void check_normalized(const Normalized& n) {
  const Caps& c = n.caps;
  check_width(c.input_bits, 1, 64, "input_bits");
  check_width(c.output_bits, 1, 64, "output_bits");
  check_width(c.asid_bits, 0, 32, "asid_bits");
  check_width(c.ssid_bits, 0, 32, "ssid_bits");
  auto has = [&](const char* key) { return n.evidence.count(key) != 0; };
  require(!c.input_bits || has("input_bits"), "input_bits has evidence");
  require(!c.output_bits || has("output_bits"), "output_bits has evidence");
  require(!c.asid_bits || has("asid_bits"), "asid_bits has evidence");
  require(!c.ssid_bits || has("ssid_bits"), "ssid_bits has evidence");
  require(!c.nested || has("nested"), "nested has evidence");
  require(!c.ats || has("ats"), "ats has evidence");
  require(!c.page_requests || has("page_requests"), "page_requests has evidence");
  require(!c.dirty_tracking || has("dirty_tracking"), "dirty_tracking has evidence");
}

void check_registers(FuzzedDataProvider& fdp) {
  const uint8_t present = fdp.ConsumeIntegral<uint8_t>();
  const uint64_t a = fdp.ConsumeIntegral<uint64_t>();
  const uint64_t b = fdp.ConsumeIntegral<uint64_t>();
  const uint64_t c = fdp.ConsumeIntegral<uint64_t>();
  Register cap, ecap, amd_cap, efr, efr2;
  check_decode(vtd_cap_spec(), a, cap);
  check_decode(vtd_ecap_spec(), b, ecap);
  check_decode(amd_cap_spec(), a & 0xffffffff, amd_cap);
  check_decode(amd_efr_spec(), b, efr);
  check_decode(amd_efr2_spec(), c, efr2);
  check_normalized(normalize_vtd(present & 1 ? &cap : nullptr, present & 2 ? &ecap : nullptr));
  check_normalized(normalize_amd(present & 4 ? &amd_cap : nullptr, present & 8 ? &efr : nullptr,
                                 present & 16 ? &efr2 : nullptr));
}

/// Reading the config at offsets (what read_host does) says what parsing it whole says, and
/// too large past 4 KiB, whatever size the file reports: exact, sysfs's 4096 to a non-root
/// reader, none, or a size cut from the input.
void check_pci_read_at_offsets(std::string_view bytes, const PciInfo& whole) {
  for (std::size_t hint : {bytes.size(), std::size_t{4096}, std::size_t{0}, bytes.size() / 2}) {
    testing::MemoryFile file(std::string(bytes), hint);
    const PciConfigRead read = read_pci_config(file);
    if (bytes.size() > kConfigLimit) {
      require(read.status == ReadStatus::kTooLarge, "a config past 4 KiB is too large");
      continue;
    }
    require(read.ok() && read.info == whole, "positioned reads give what a whole read gives");
  }
}

void check_pci(std::string_view bytes) {
  PciInfo info = parse_pci_config(bytes);
  check_pci_read_at_offsets(bytes, info);
  require(info.config_size == std::min<size_t>(bytes.size(), 4096), "config_size is what was read");
  if (bytes.size() < 64) {
    PciInfo nothing;
    nothing.config_size = info.config_size;
    require(info == nothing, "a short config gives nothing but its size");
    return;
  }
  // Root reads exactly the function's config size: 256 bytes is conventional PCI (no extended
  // space, so no ATS, PRI or PASID), 4096 the whole extended space; any other size says nothing.
  const bool conventional = bytes.size() == 256;
  const bool extended = bytes.size() >= 4096 || conventional;
  require(
      info.pasid.has_value() == extended && info.ats.has_value() == extended &&
          info.pri.has_value() == extended,
      "extended capabilities known iff the 4 KiB are there, or the 256 bytes of conventional PCI");
  if (conventional) {
    require(!*info.pasid && !*info.ats && !*info.pri,
            "conventional PCI has no extended capability");
  }
  if (info.pasid && *info.pasid) {
    require((*info.pasid)->max_width >= 0 && (*info.pasid)->max_width <= 31, "PASID width 5 bits");
  }
}

}  // namespace
}  // namespace caps::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  caps::fuzz::check_text(bytes);
  caps::fuzz::check_pci(bytes);
  FuzzedDataProvider fdp(data, size);
  caps::fuzz::check_registers(fdp);
  // Register values as the kernel prints them, so the text parsers meet what they decode.
  const uint64_t raw = FuzzedDataProvider(data, size).ConsumeIntegral<uint64_t>();
  caps::fuzz::check_hex(caps::format_hex(raw).substr(2));
  caps::fuzz::require(caps::parse_hex_prefixed(caps::format_hex(raw)) == raw,
                      "parse_hex_prefixed(format_hex(v)) == v");
  return 0;
}
