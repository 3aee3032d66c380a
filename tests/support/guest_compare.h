// SPDX-License-Identifier: MIT
// Comparing guests by value: the positions parse_guest records set to zero.
#pragma once

#include <optional>

#include "libcaps/guest.h"

namespace caps::testing {

template <class T>
void clear_position(std::optional<Located<T>>& located) {
  if (located) located->pos = {};
}

/// The guest with every position zeroed, to compare values only.
inline Guest without_positions(Guest g) {
  g.viommu_pos = {};
  GuestViommu& v = g.viommu;
  v.model.pos = {};
  clear_position(v.input_bits);
  clear_position(v.output_bits);
  clear_position(v.asid_bits);
  clear_position(v.ssid_bits);
  clear_position(v.httu);
  clear_position(v.stall);
  clear_position(v.btm);
  clear_position(v.pgtable_format);
  clear_position(v.nested);
  clear_position(v.ats);
  clear_position(v.page_requests);
  clear_position(v.dirty_tracking);
  clear_position(v.units);
  for (GuestDevice& d : g.devices) d.bdf.pos = {};
  if (g.pasid_table) {
    GuestPasidTable& t = *g.pasid_table;
    t.pos = t.version.pos = t.bytes.pos = t.model.pos = t.base_ptr.pos = t.pasid_bits.pos = {};
    clear_position(t.s1dss);
  }
  if (g.pasid_alloc) {
    GuestPasidAlloc& a = *g.pasid_alloc;
    a.pos = a.min.pos = a.max.pos = a.count.pos = a.quota.pos = {};
  }
  if (g.stage1) {
    GuestStage1& s = *g.stage1;
    s.pos = s.type.pos = {};
    clear_position(s.addr_width);
    clear_position(s.sre);
    clear_position(s.eafe);
    clear_position(s.wpe);
    clear_position(s.pgtbl_addr);
    clear_position(s.config);
    clear_position(s.s1fmt);
    clear_position(s.s1cdmax);
    clear_position(s.s1dss);
    clear_position(s.s1_context_ptr);
    clear_position(s.eats);
  }
  if (g.vfio) {
    g.vfio->pos = {};
    clear_position(g.vfio->backend);
    clear_position(g.vfio->confidential);
    clear_position(g.vfio->migration);
  }
  if (g.memory) {
    g.memory->pos = {};
    clear_position(g.memory->size);
    clear_position(g.memory->phys_bits);
    clear_position(g.memory->above_4g_start);
  }
  return g;
}

}  // namespace caps::testing
