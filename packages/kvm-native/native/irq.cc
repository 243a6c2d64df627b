#include "irq.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "common.h"

namespace memtopo {

namespace {

// The kernel's KVM_MAX_IRQ_ROUTES (include/linux/kvm_host.h, not uapi): the most
// routing entries, and one past the highest GSI, KVM_SET_GSI_ROUTING takes on x86.
const uint32_t kMaxIrqRoutes = 4096;
const uint32_t kPicPins = 8;
const uint32_t kIrqfdFlags = KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE;
const uint32_t kClockFlags = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
const uint32_t kPitConfigFlags = KVM_PIT_SPEAKER_DUMMY;
const size_t kChipBytes = sizeof(((kvm_irqchip*)nullptr)->chip);

// The kernel's struct kvm_irq_routing is (nr, flags) then the entries at byte 8. C++ gives
// the header's flexible-array wrapper a 1-byte empty struct, which changes its size and
// with it the ioctl number the kernel matches (ENOTTY), so both are spelled out here.
struct RoutingHeader {
  uint32_t nr;
  uint32_t flags;
};
const unsigned long kSetGsiRouting = _IOW(KVMIO, 0x6a, RoutingHeader);
static_assert(_IOW(KVMIO, 0x6a, RoutingHeader) == 0x4008ae6aul, "KVM_SET_GSI_ROUTING as the kernel defines it");

Napi::Value Undefined(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

bool OpenVm(const Napi::CallbackInfo& info, int vm_fd, const char* op) {
  if (vm_fd >= 0) return true;
  ThrowArg(info.Env(), EBADF, op, "the VM is closed");
  return false;
}

bool ArgChip(const Napi::CallbackInfo& info, const char* op, uint32_t* chip) {
  if (!ArgU32(info, 0, op, "chipId", chip)) return false;
  if (*chip >= KVM_NR_IRQCHIPS) {
    ThrowArg(info.Env(), EINVAL, op, "chipId must be 0 (PIC master), 1 (PIC slave) or 2 (IOAPIC)");
    return false;
  }
  return true;
}

bool ArgExactBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, size_t want,
                   uint8_t** data) {
  size_t len = 0;
  if (!ArgBytes(info, i, op, name, data, &len)) return false;
  if (len != want) {
    ThrowArg(info.Env(), EINVAL, op, std::string(name) + " must be " + std::to_string(want) + " bytes");
    return false;
  }
  return true;
}

bool ArgEventfd(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint32_t* fd) {
  if (!ArgU32(info, i, op, name, fd)) return false;
  if (*fd > 0x7fffffff || !IsOwnEventfd(static_cast<int>(*fd))) {
    ThrowArg(info.Env(), EBADF, op,
             std::string(name) + " " + std::to_string(*fd) + " is not an open eventfd of this addon");
    return false;
  }
  return true;
}

Napi::Value Bytes(const Napi::CallbackInfo& info, const void* data, size_t len) {
  Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), len);
  if (info.Env().IsExceptionPending()) return Undefined(info);
  memcpy(out.Data(), data, len);
  return out;
}

// One routing entry as kvm_set_irq_routing and x86's kvm_set_routing_entry check it;
// returns an empty string when the kernel would take it.
std::string RouteProblem(const kvm_irq_routing_entry& e) {
  if (e.gsi >= kMaxIrqRoutes) return "gsi must be below " + std::to_string(kMaxIrqRoutes);
  if ((e.flags & ~KVM_MSI_VALID_DEVID) != 0) return "flags may only be KVM_MSI_VALID_DEVID";
  if (e.pad != 0) return "pad must be 0";
  if (e.type == KVM_IRQ_ROUTING_IRQCHIP) {
    if (e.flags != 0) return "KVM_MSI_VALID_DEVID is for MSI routes only";
    uint32_t pins = e.u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC ? KVM_IOAPIC_NUM_PINS : kPicPins;
    if (e.u.irqchip.irqchip >= KVM_NR_IRQCHIPS) return "irqchip must be 0, 1 or 2";
    if (e.u.irqchip.pin >= pins) return "pin must be below " + std::to_string(pins) + " on that irqchip";
    return "";
  }
  if (e.type == KVM_IRQ_ROUTING_MSI) {
    if ((e.flags & KVM_MSI_VALID_DEVID) == 0 && e.u.msi.devid != 0) return "devid needs KVM_MSI_VALID_DEVID";
    return "";
  }
  return "type must be KVM_IRQ_ROUTING_IRQCHIP (1) or KVM_IRQ_ROUTING_MSI (2)";
}

}  // namespace

Napi::Value CreateIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu) {
  const char* op = "createIrqchip";
  if (!ArgCount(info, 0, op) || !OpenVm(info, vm_fd, op)) return Undefined(info);
  // Issued even with a vCPU: the kernel's errno (EINVAL, or EEXIST first) is the contract.
  if (ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
    int err = errno;
    ThrowErrno(info.Env(), err, "ioctl(KVM_CREATE_IRQCHIP)",
               err == EEXIST    ? "the VM has an irqchip already"
               : has_vcpu && err == EINVAL ? "a vCPU exists: the irqchip must be created before any vCPU"
                                           : "");
  }
  return Undefined(info);
}

Napi::Value GetIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "getIrqchip";
  uint32_t chip = 0;
  if (!ArgCount(info, 1, op) || !ArgChip(info, op, &chip) || !OpenVm(info, vm_fd, op)) return Undefined(info);
  kvm_irqchip state = {};
  state.chip_id = chip;
  if (ioctl(vm_fd, KVM_GET_IRQCHIP, &state) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_GET_IRQCHIP)", "chip " + std::to_string(chip));
    return Undefined(info);
  }
  return Bytes(info, &state.chip, kChipBytes);
}

Napi::Value SetIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "setIrqchip";
  uint32_t chip = 0;
  uint8_t* data = nullptr;
  if (!ArgCount(info, 2, op) || !ArgChip(info, op, &chip) || !ArgExactBytes(info, 1, op, "state", kChipBytes, &data) ||
      !OpenVm(info, vm_fd, op))
    return Undefined(info);
  kvm_irqchip state = {};
  state.chip_id = chip;
  memcpy(&state.chip, data, kChipBytes);
  if (ioctl(vm_fd, KVM_SET_IRQCHIP, &state) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_IRQCHIP)", "chip " + std::to_string(chip));
  }
  return Undefined(info);
}

Napi::Value CreatePit2(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "createPit2";
  uint32_t flags = 0;
  if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "flags", &flags) || !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if ((flags & ~kPitConfigFlags) != 0) {
    ThrowArg(info.Env(), EINVAL, op, "flags may only be KVM_PIT_SPEAKER_DUMMY");
    return Undefined(info);
  }
  kvm_pit_config config = {};
  config.flags = flags;
  if (ioctl(vm_fd, KVM_CREATE_PIT2, &config) < 0) ThrowErrno(info.Env(), errno, "ioctl(KVM_CREATE_PIT2)", "");
  return Undefined(info);
}

Napi::Value GetPit2(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "getPit2";
  if (!ArgCount(info, 0, op) || !OpenVm(info, vm_fd, op)) return Undefined(info);
  kvm_pit_state2 state = {};
  if (ioctl(vm_fd, KVM_GET_PIT2, &state) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_GET_PIT2)", "");
    return Undefined(info);
  }
  return Bytes(info, &state, sizeof state);
}

Napi::Value SetPit2(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "setPit2";
  uint8_t* data = nullptr;
  if (!ArgCount(info, 1, op) || !ArgExactBytes(info, 0, op, "state", sizeof(kvm_pit_state2), &data) ||
      !OpenVm(info, vm_fd, op))
    return Undefined(info);
  kvm_pit_state2 state = {};
  memcpy(&state, data, sizeof state);
  if (ioctl(vm_fd, KVM_SET_PIT2, &state) < 0) ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_PIT2)", "");
  return Undefined(info);
}

Napi::Value IrqLineStatus(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "irqLine";
  uint32_t gsi = 0, level = 0;
  if (!ArgCount(info, 2, op) || !ArgU32(info, 0, op, "gsi", &gsi) || !ArgU32(info, 1, op, "level", &level) ||
      !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if (level > 1) {
    ThrowArg(info.Env(), EINVAL, op, "level must be 0 or 1");
    return Undefined(info);
  }
  kvm_irq_level line = {};
  line.irq = gsi;
  line.level = level;
  if (ioctl(vm_fd, KVM_IRQ_LINE_STATUS, &line) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_IRQ_LINE_STATUS)", "gsi " + std::to_string(gsi));
    return Undefined(info);
  }
  return Napi::Number::New(info.Env(), line.status);
}

Napi::Value Irqfd(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "irqfd";
  uint32_t fd = 0, gsi = 0, flags = 0, resamplefd = 0;
  if (!ArgCount(info, 4, op) || !ArgEventfd(info, 0, op, "fd", &fd) || !ArgU32(info, 1, op, "gsi", &gsi) ||
      !ArgU32(info, 2, op, "flags", &flags) || !ArgU32(info, 3, op, "resamplefd", &resamplefd) ||
      !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if ((flags & ~kIrqfdFlags) != 0) {
    ThrowArg(info.Env(), EINVAL, op, "flags has bits other than KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE");
    return Undefined(info);
  }
  if ((flags & KVM_IRQFD_FLAG_RESAMPLE) != 0 && (flags & KVM_IRQFD_FLAG_DEASSIGN) == 0) {
    if (!ArgEventfd(info, 3, op, "resamplefd", &resamplefd)) return Undefined(info);
  } else if (resamplefd != 0) {
    ThrowArg(info.Env(), EINVAL, op, "resamplefd must be 0 unless assigning with KVM_IRQFD_FLAG_RESAMPLE");
    return Undefined(info);
  }
  kvm_irqfd request = {};
  request.fd = fd;
  request.gsi = gsi;
  request.flags = flags;
  request.resamplefd = resamplefd;
  if (ioctl(vm_fd, KVM_IRQFD, &request) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_IRQFD)", "gsi " + std::to_string(gsi));
  }
  return Undefined(info);
}

Napi::Value SetGsiRouting(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "setGsiRouting";
  uint8_t* data = nullptr;
  size_t len = 0;
  if (!ArgCount(info, 1, op) || !ArgBytes(info, 0, op, "entries", &data, &len) || !OpenVm(info, vm_fd, op))
    return Undefined(info);
  const size_t entry = sizeof(kvm_irq_routing_entry);
  if (len % entry != 0 || len / entry > kMaxIrqRoutes) {
    ThrowArg(info.Env(), EINVAL, op,
             "entries must hold at most " + std::to_string(kMaxIrqRoutes) + " whole " + std::to_string(entry) +
                 "-byte kvm_irq_routing_entry");
    return Undefined(info);
  }
  size_t nr = len / entry;
  // Entries are copied out as structs (the caller's bytes need not be aligned) and checked
  // from the copy, so what is checked is what the kernel gets.
  std::vector<kvm_irq_routing_entry> entries(nr);
  if (nr != 0) memcpy(entries.data(), data, len);
  // A GSI reaches at most one pin of each irqchip, and an MSI route is its GSI's only route.
  std::map<uint32_t, uint32_t> chips_of_gsi;
  for (size_t i = 0; i < nr; i++) {
    const kvm_irq_routing_entry& e = entries[i];
    std::string problem = RouteProblem(e);
    uint32_t bit = e.type == KVM_IRQ_ROUTING_IRQCHIP ? 1u << e.u.irqchip.irqchip : 1u << 31;
    auto seen = chips_of_gsi.find(e.gsi);
    if (problem.empty() && seen != chips_of_gsi.end() && ((seen->second & bit) != 0 || bit == 1u << 31 ||
                                                          (seen->second & (1u << 31)) != 0))
      problem = "gsi " + std::to_string(e.gsi) + " is routed twice to the same irqchip, or MSI beside another route";
    if (!problem.empty()) {
      ThrowArg(info.Env(), EINVAL, op, "entry " + std::to_string(i) + ": " + problem);
      return Undefined(info);
    }
    chips_of_gsi[e.gsi] |= bit;
  }
  std::vector<uint8_t> buffer(sizeof(RoutingHeader) + len);
  RoutingHeader header = {static_cast<uint32_t>(nr), 0};
  memcpy(buffer.data(), &header, sizeof header);
  if (nr != 0) memcpy(buffer.data() + sizeof header, entries.data(), len);
  if (ioctl(vm_fd, kSetGsiRouting, buffer.data()) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_GSI_ROUTING)", std::to_string(nr) + " entries");
  }
  return Undefined(info);
}

Napi::Value SignalMsi(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "signalMsi";
  uint64_t address = 0;
  uint32_t data = 0, flags = 0, devid = 0;
  if (!ArgCount(info, 4, op) || !ArgU64(info, 0, op, "address", &address) || !ArgU32(info, 1, op, "data", &data) ||
      !ArgU32(info, 2, op, "flags", &flags) || !ArgU32(info, 3, op, "devid", &devid) || !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if ((flags & ~KVM_MSI_VALID_DEVID) != 0 || ((flags & KVM_MSI_VALID_DEVID) == 0 && devid != 0)) {
    ThrowArg(info.Env(), EINVAL, op, "flags may only be KVM_MSI_VALID_DEVID, and devid needs it");
    return Undefined(info);
  }
  kvm_msi msi = {};
  msi.address_lo = static_cast<uint32_t>(address);
  msi.address_hi = static_cast<uint32_t>(address >> 32);
  msi.data = data;
  msi.flags = flags;
  msi.devid = devid;
  int r = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
  if (r < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_SIGNAL_MSI)", "");
    return Undefined(info);
  }
  return Napi::Number::New(info.Env(), r);
}

Napi::Value GetClock(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "getClock";
  if (!ArgCount(info, 0, op) || !OpenVm(info, vm_fd, op)) return Undefined(info);
  kvm_clock_data clock = {};
  if (ioctl(vm_fd, KVM_GET_CLOCK, &clock) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_GET_CLOCK)", "");
    return Undefined(info);
  }
  return Bytes(info, &clock, sizeof clock);
}

Napi::Value SetClock(const Napi::CallbackInfo& info, int vm_fd, bool) {
  const char* op = "setClock";
  uint64_t value = 0, realtime = 0, host_tsc = 0;
  uint32_t flags = 0;
  if (!ArgCount(info, 4, op) || !ArgU64(info, 0, op, "clock", &value) || !ArgU32(info, 1, op, "flags", &flags) ||
      !ArgU64(info, 2, op, "realtime", &realtime) || !ArgU64(info, 3, op, "hostTsc", &host_tsc) ||
      !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if ((flags & ~kClockFlags) != 0) {
    ThrowArg(info.Env(), EINVAL, op, "flags has bits other than KVM_CLOCK_TSC_STABLE | REALTIME | HOST_TSC");
    return Undefined(info);
  }
  kvm_clock_data clock = {};
  clock.clock = value;
  clock.flags = flags;
  clock.realtime = realtime;
  clock.host_tsc = host_tsc;
  if (ioctl(vm_fd, KVM_SET_CLOCK, &clock) < 0) ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_CLOCK)", "");
  return Undefined(info);
}

Napi::Value SetIdentityMapAddr(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu) {
  const char* op = "setIdentityMapAddr";
  uint64_t addr = 0;
  if (!ArgCount(info, 1, op) || !ArgU64(info, 0, op, "addr", &addr) || !OpenVm(info, vm_fd, op))
    return Undefined(info);
  if (ioctl(vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0) {
    int err = errno;
    ThrowErrno(info.Env(), err, "ioctl(KVM_SET_IDENTITY_MAP_ADDR)",
               has_vcpu && err == EINVAL ? "a vCPU exists: the identity map must be placed before any vCPU" : "");
  }
  return Undefined(info);
}

Napi::Value SetTssAddr(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu) {
  const char* op = "setTssAddr";
  uint64_t addr = 0;
  if (!ArgCount(info, 1, op) || !ArgU64(info, 0, op, "addr", &addr) || !OpenVm(info, vm_fd, op))
    return Undefined(info);
  // The kernel's own bound: the TSS's three pages must end at or below 4 GiB.
  if (addr > 0xffffd000ull) {
    ThrowArg(info.Env(), EINVAL, op, "addr must be at most 0xffffd000 (three pages below 4 GiB)");
    return Undefined(info);
  }
  if (ioctl(vm_fd, KVM_SET_TSS_ADDR, static_cast<unsigned long>(addr)) < 0) {
    int err = errno;
    ThrowErrno(info.Env(), err, "ioctl(KVM_SET_TSS_ADDR)",
               has_vcpu && err == EINVAL ? "a vCPU exists: the TSS must be placed before any vCPU" : "");
  }
  return Undefined(info);
}

}  // namespace memtopo
