// One KVM VM: memslots (only into live RAM blocks this VM adopted), ioeventfds,
// coalesced MMIO zones, dirty log, vCPU creation. Closing deletes every slot before its RAM can go.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <new>

#include "common.h"
#include "dirty-ring.h"
#include "irq.h"
#include "msr-exits.h"

namespace memtopo {

namespace {

struct Slot {
  uint32_t flags;
  uint64_t gpa;
  uint64_t size;
  uint64_t uaddr;
  Mapping* mapping;
};

const uint32_t kSlotFlags = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;
const uint32_t kIoeventfdFlags = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN;

uint64_t DirtyBitmapBytes(uint64_t pages) { return (pages + 63) / 64 * 8; }

}  // namespace

class Vm : public Napi::ObjectWrap<Vm> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vm",
                       {InstanceMethod<&Vm::CheckExtension>("checkExtension"),
                        InstanceMethod<&Vm::SetUserMemoryRegion>("setUserMemoryRegion"),
                        InstanceMethod<&Vm::AdoptRam>("adoptRam"),
                        InstanceMethod<&Vm::Ioeventfd>("ioeventfd"),
                        InstanceMethod<&Vm::RegisterCoalescedMmio>("registerCoalescedMmio"),
                        InstanceMethod<&Vm::UnregisterCoalescedMmio>("unregisterCoalescedMmio"),
                        InstanceMethod<&Vm::GetDirtyLog>("getDirtyLog"),
                        InstanceMethod<&Vm::ClearDirtyLog>("clearDirtyLog"),
                        InstanceMethod<&Vm::EnableManualDirtyLogProtect>("enableManualDirtyLogProtect"),
                        InstanceMethod<&Vm::EnableDirtyLogRing>("enableDirtyLogRing"),
                        InstanceMethod<&Vm::ResetDirtyRings>("resetDirtyRings"),
                        InstanceMethod<&Vm::EnableUserSpaceMsr>("enableUserSpaceMsr"),
                        InstanceMethod<&Vm::SetMsrFilter>("setMsrFilter"),
                        InstanceMethod<&Vm::Irq<CreateIrqchip>>("createIrqchip"),
                        InstanceMethod<&Vm::Irq<GetIrqchip>>("getIrqchip"),
                        InstanceMethod<&Vm::Irq<SetIrqchip>>("setIrqchip"),
                        InstanceMethod<&Vm::Irq<CreatePit2>>("createPit2"),
                        InstanceMethod<&Vm::Irq<GetPit2>>("getPit2"), InstanceMethod<&Vm::Irq<SetPit2>>("setPit2"),
                        InstanceMethod<&Vm::Irq<IrqLineStatus>>("irqLine"), InstanceMethod<&Vm::Irq<Irqfd>>("irqfd"),
                        InstanceMethod<&Vm::Irq<SetGsiRouting>>("setGsiRouting"),
                        InstanceMethod<&Vm::Irq<SignalMsi>>("signalMsi"),
                        InstanceMethod<&Vm::Irq<GetClock>>("getClock"), InstanceMethod<&Vm::Irq<SetClock>>("setClock"),
                        InstanceMethod<&Vm::Irq<SetIdentityMapAddr>>("setIdentityMapAddr"),
                        InstanceMethod<&Vm::Irq<SetTssAddr>>("setTssAddr"),
                        InstanceMethod<&Vm::CreateVcpu>("createVcpu"), InstanceMethod<&Vm::Close>("close")});
  }

  // new Vm(devicePath: string)
  Vm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vm>(info) {
    const char* op = "Vm";
    std::string path;
    if (!ArgCount(info, 1, op) || !ArgString(info, 0, op, "devicePath", &path, 4096)) return;
    int kvm = OpenKvmDevice(path);
    if (kvm < 0) {
      ThrowErrno(info.Env(), -kvm, "open", path);
      return;
    }
    int version = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
      int err = version < 0 ? errno : EPROTO;
      close(kvm);
      ThrowErrno(info.Env(), err, "ioctl(KVM_GET_API_VERSION)", "got " + std::to_string(version));
      return;
    }
    int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < static_cast<int>(sizeof(kvm_run))) {
      int err = mmap_size < 0 ? errno : EPROTO;
      close(kvm);
      ThrowErrno(info.Env(), err, "ioctl(KVM_GET_VCPU_MMAP_SIZE)", "");
      return;
    }
    // A signal (a profiler's SIGPROF, say) can interrupt the kernel's VM setup; QEMU's
    // kvm_init retries KVM_CREATE_VM on EINTR too.
    int vm;
    do {
      vm = ioctl(kvm, KVM_CREATE_VM, 0);
    } while (vm < 0 && errno == EINTR);
    if (vm < 0) {
      int err = errno;
      close(kvm);
      ThrowErrno(info.Env(), err, "ioctl(KVM_CREATE_VM)", "");
      return;
    }
    // The TSS and EPT identity map are placed by the caller (setTssAddr, setIdentityMapAddr;
    // NativeKvm applies QEMU's addresses before the first vCPU when the caller chose none).
    kvm_fd_ = kvm;
    vm_fd_ = vm;
    mmap_size_ = static_cast<size_t>(mmap_size);
  }

  ~Vm() override { Shutdown(); }

 private:
  bool Open(const Napi::CallbackInfo& info, const char* op) {
    if (vm_fd_ >= 0) return true;
    ThrowArg(info.Env(), EBADF, op, "the VM is closed");
    return false;
  }

  Napi::Value CheckExtension(const Napi::CallbackInfo& info) {
    const char* op = "checkExtension";
    uint32_t cap = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "cap", &cap) || !Open(info, op)) return info.Env().Undefined();
    if (cap > 0x7fffffff) {
      ThrowArg(info.Env(), EINVAL, op, "cap must be below 2^31");
      return info.Env().Undefined();
    }
    int r = ioctl(vm_fd_, KVM_CHECK_EXTENSION, static_cast<unsigned long>(cap));
    if (r < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_CHECK_EXTENSION)", "cap " + std::to_string(cap));
      return info.Env().Undefined();
    }
    return Napi::Number::New(info.Env(), r);
  }

  // setUserMemoryRegion(slot, flags, guestPhysAddr, memorySize, userspaceAddr)
  Napi::Value SetUserMemoryRegion(const Napi::CallbackInfo& info) {
    const char* op = "setUserMemoryRegion";
    uint32_t slot = 0, flags = 0;
    uint64_t gpa = 0, size = 0, uaddr = 0;
    if (!ArgCount(info, 5, op) || !ArgU32(info, 0, op, "slot", &slot) || !ArgU32(info, 1, op, "flags", &flags) ||
        !ArgU64(info, 2, op, "guestPhysAddr", &gpa) || !ArgU64(info, 3, op, "memorySize", &size) ||
        !ArgU64(info, 4, op, "userspaceAddr", &uaddr) || !Open(info, op))
      return info.Env().Undefined();
    if ((flags & ~kSlotFlags) != 0) {
      ThrowArg(info.Env(), EINVAL, op, "flags has bits other than KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY");
      return info.Env().Undefined();
    }
    // The slot holds its block: a block of this VM only, live, mapped while the slot exists.
    Mapping* mapping = nullptr;
    if (size != 0) {
      mapping = AcquireForSlot(info.Env(), op, id_, uaddr, size);
      if (mapping == nullptr) return info.Env().Undefined();
    }
    kvm_userspace_memory_region region = {slot, flags, gpa, size, uaddr};
    if (ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
      int err = errno;
      if (mapping != nullptr) Release(mapping);
      ThrowErrno(info.Env(), err, "ioctl(KVM_SET_USER_MEMORY_REGION)", "slot " + std::to_string(slot));
      return info.Env().Undefined();
    }
    auto it = slots_.find(slot);
    if (it != slots_.end()) {
      Release(it->second.mapping);
      slots_.erase(it);
    }
    if (size != 0) slots_[slot] = Slot{flags, gpa, size, uaddr, mapping};
    return info.Env().Undefined();
  }

  // ioeventfd(addr, len, fd, flags, datamatch)
  Napi::Value Ioeventfd(const Napi::CallbackInfo& info) {
    const char* op = "ioeventfd";
    uint64_t addr = 0, datamatch = 0;
    uint32_t len = 0, fd = 0, flags = 0;
    if (!ArgCount(info, 5, op) || !ArgU64(info, 0, op, "addr", &addr) || !ArgU32(info, 1, op, "len", &len) ||
        !ArgU32(info, 2, op, "fd", &fd) || !ArgU32(info, 3, op, "flags", &flags) ||
        !ArgU64(info, 4, op, "datamatch", &datamatch) || !Open(info, op))
      return info.Env().Undefined();
    if (len != 0 && len != 1 && len != 2 && len != 4 && len != 8) {
      ThrowArg(info.Env(), EINVAL, op, "len must be 0, 1, 2, 4 or 8");
      return info.Env().Undefined();
    }
    if ((flags & ~kIoeventfdFlags) != 0) {
      ThrowArg(info.Env(), EINVAL, op, "flags has bits other than DATAMATCH | PIO | DEASSIGN");
      return info.Env().Undefined();
    }
    if (fd > 0x7fffffff || !IsOwnEventfd(static_cast<int>(fd))) {
      ThrowArg(info.Env(), EBADF, op, "fd " + std::to_string(fd) + " is not an open eventfd of this addon");
      return info.Env().Undefined();
    }
    kvm_ioeventfd request = {};
    request.datamatch = datamatch;
    request.addr = addr;
    request.len = len;
    request.fd = static_cast<int32_t>(fd);
    request.flags = flags;
    if (ioctl(vm_fd_, KVM_IOEVENTFD, &request) < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_IOEVENTFD)", "");
    }
    return info.Env().Undefined();
  }

  // registerCoalescedMmio(addr, size, pio) / unregisterCoalescedMmio(addr, size, pio)
  Napi::Value RegisterCoalescedMmio(const Napi::CallbackInfo& info) {
    return CoalescedZone(info, "registerCoalescedMmio", KVM_REGISTER_COALESCED_MMIO, "ioctl(KVM_REGISTER_COALESCED_MMIO)");
  }

  Napi::Value UnregisterCoalescedMmio(const Napi::CallbackInfo& info) {
    return CoalescedZone(info, "unregisterCoalescedMmio", KVM_UNREGISTER_COALESCED_MMIO,
                         "ioctl(KVM_UNREGISTER_COALESCED_MMIO)");
  }

  Napi::Value CoalescedZone(const Napi::CallbackInfo& info, const char* op, unsigned long request,
                            const char* what) {
    uint64_t addr = 0;
    uint32_t size = 0, pio = 0;
    if (!ArgCount(info, 3, op) || !ArgU64(info, 0, op, "addr", &addr) || !ArgU32(info, 1, op, "size", &size) ||
        !ArgU32(info, 2, op, "pio", &pio) || !Open(info, op))
      return info.Env().Undefined();
    if (pio > 1) {
      ThrowArg(info.Env(), EINVAL, op, "pio must be 0 or 1");
      return info.Env().Undefined();
    }
    kvm_coalesced_mmio_zone zone = {};
    zone.addr = addr;
    zone.size = size;
    zone.pio = pio;
    if (ioctl(vm_fd_, request, &zone) < 0) ThrowErrno(info.Env(), errno, what, "");
    return info.Env().Undefined();
  }

  // The slot if it exists and logs dirty pages, so that its bitmap size is known.
  // Otherwise the kernel has no bitmap for it and fails (EINVAL for a bad id,
  // ENOENT else) before touching the bitmap pointer, so a dummy is passed to get
  // the kernel's own errno in the kernel's own order.
  const Slot* LoggingSlot(uint32_t slot) const {
    auto it = slots_.find(slot);
    if (it == slots_.end() || (it->second.flags & KVM_MEM_LOG_DIRTY_PAGES) == 0) return nullptr;
    return &it->second;
  }

  Napi::Value GetDirtyLog(const Napi::CallbackInfo& info) {
    const char* op = "getDirtyLog";
    uint32_t slot = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "slot", &slot) || !Open(info, op))
      return info.Env().Undefined();
    const Slot* s = LoggingSlot(slot);
    uint64_t bytes = s == nullptr ? 8 : DirtyBitmapBytes(s->size / 4096);
    // 64-bit words, as the kernel writes them.
    std::unique_ptr<uint64_t[]> bitmap(new (std::nothrow) uint64_t[bytes / 8]());
    if (bitmap == nullptr) {
      ThrowArg(info.Env(), ENOMEM, op, "cannot allocate a " + std::to_string(bytes) + "-byte bitmap");
      return info.Env().Undefined();
    }
    kvm_dirty_log log = {};
    log.slot = slot;
    log.dirty_bitmap = bitmap.get();
    if (ioctl(vm_fd_, KVM_GET_DIRTY_LOG, &log) < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_GET_DIRTY_LOG)", "slot " + std::to_string(slot));
      return info.Env().Undefined();
    }
    Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), static_cast<size_t>(bytes));
    if (info.Env().IsExceptionPending()) return info.Env().Undefined();
    memcpy(out.Data(), bitmap.get(), static_cast<size_t>(bytes));
    return out;
  }

  // clearDirtyLog(slot, firstPage, numPages, bitmap)
  Napi::Value ClearDirtyLog(const Napi::CallbackInfo& info) {
    const char* op = "clearDirtyLog";
    uint32_t slot = 0, num_pages = 0;
    uint64_t first_page = 0;
    uint8_t* data = nullptr;
    size_t len = 0;
    if (!ArgCount(info, 4, op) || !ArgU32(info, 0, op, "slot", &slot) ||
        !ArgU64(info, 1, op, "firstPage", &first_page) || !ArgU32(info, 2, op, "numPages", &num_pages) ||
        !ArgBytes(info, 3, op, "bitmap", &data, &len) || !Open(info, op))
      return info.Env().Undefined();
    const Slot* s = LoggingSlot(slot);
    uint64_t need = 8;
    if (s != nullptr) {
      uint64_t pages = s->size / 4096;
      // The kernel reads ALIGN(num_pages, 64) / 8 bytes once the range is valid.
      if ((first_page & 63) != 0 || first_page > pages || num_pages > pages - first_page) {
        ThrowArg(info.Env(), EINVAL, op, "firstPage must be a multiple of 64 and firstPage+numPages inside the slot");
        return info.Env().Undefined();
      }
      need = DirtyBitmapBytes(num_pages);
    }
    if (s != nullptr && len < need) {
      ThrowArg(info.Env(), EINVAL, op, "bitmap needs " + std::to_string(need) + " bytes");
      return info.Env().Undefined();
    }
    std::unique_ptr<uint64_t[]> bitmap(new (std::nothrow) uint64_t[need / 8 + 1]());
    if (bitmap == nullptr) {
      ThrowArg(info.Env(), ENOMEM, op, "cannot allocate a " + std::to_string(need) + "-byte bitmap");
      return info.Env().Undefined();
    }
    memcpy(bitmap.get(), data, static_cast<size_t>(s == nullptr ? 0 : need));
    kvm_clear_dirty_log clear = {};
    clear.slot = slot;
    clear.num_pages = num_pages;
    clear.first_page = first_page;
    clear.dirty_bitmap = bitmap.get();
    if (ioctl(vm_fd_, KVM_CLEAR_DIRTY_LOG, &clear) < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_CLEAR_DIRTY_LOG)", "slot " + std::to_string(slot));
    }
    return info.Env().Undefined();
  }

  // enableManualDirtyLogProtect(flags): any subset of ENABLE and INITIALLY_SET, as the kernel takes
  // them (it refuses what KVM_CHECK_EXTENSION did not report).
  Napi::Value EnableManualDirtyLogProtect(const Napi::CallbackInfo& info) {
    const char* op = "enableManualDirtyLogProtect";
    uint32_t flags = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "flags", &flags) || !Open(info, op))
      return info.Env().Undefined();
    if ((flags & ~static_cast<uint32_t>(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET)) != 0) {
      ThrowArg(info.Env(), EINVAL, op,
               "flags must be KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE (1) and/or KVM_DIRTY_LOG_INITIALLY_SET (2)");
      return info.Env().Undefined();
    }
    kvm_enable_cap cap = {};
    cap.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
    cap.args[0] = flags;
    if (ioctl(vm_fd_, KVM_ENABLE_CAP, &cap) < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_ENABLE_CAP)", "KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2");
    }
    return info.Env().Undefined();
  }

  Napi::Value EnableDirtyLogRing(const Napi::CallbackInfo& info) {
    return memtopo::EnableDirtyLogRing(info, vm_fd_, &dirty_ring_bytes_);
  }
  Napi::Value ResetDirtyRings(const Napi::CallbackInfo& info) { return memtopo::ResetDirtyRings(info, vm_fd_); }

  Napi::Value EnableUserSpaceMsr(const Napi::CallbackInfo& info) { return memtopo::EnableUserSpaceMsr(info, vm_fd_); }
  Napi::Value SetMsrFilter(const Napi::CallbackInfo& info) { return memtopo::SetMsrFilter(info, vm_fd_); }

  // Interrupts, PIT, routing and clock (irq.cc), told whether a vCPU exists.
  template <IrqCall call>
  Napi::Value Irq(const Napi::CallbackInfo& info) {
    return call(info, vm_fd_, has_vcpu_);
  }

  Napi::Value CreateVcpu(const Napi::CallbackInfo& info) {
    const char* op = "createVcpu";
    uint32_t id = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "id", &id) || !Open(info, op)) return info.Env().Undefined();
    if (id > 0x7fffffff) {
      ThrowArg(info.Env(), EINVAL, op, "id must be below 2^31");
      return info.Env().Undefined();
    }
    int fd = ioctl(vm_fd_, KVM_CREATE_VCPU, static_cast<unsigned long>(id));
    if (fd < 0) {
      ThrowErrno(info.Env(), errno, "ioctl(KVM_CREATE_VCPU)", "id " + std::to_string(id));
      return info.Env().Undefined();
    }
    has_vcpu_ = true;
    VcpuInit init = {fd, mmap_size_, id, dirty_ring_bytes_};
    AddonData* data = info.Env().GetInstanceData<AddonData>();
    return data->vcpu.New({Napi::External<VcpuInit>::New(info.Env(), &init)});
  }

  // adoptRam(block): the block becomes RAM of this VM, and of no other.
  Napi::Value AdoptRam(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 1, "adoptRam")) return info.Env().Undefined();
    AdoptRamBlock(info.Env(), "adoptRam", info[0], id_);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "close")) return info.Env().Undefined();
    Shutdown();
    return info.Env().Undefined();
  }

  // Slots go first, so that no slot ever points at unmapped memory.
  void Shutdown() {
    if (vm_fd_ < 0) return;
    for (auto& [slot, s] : slots_) {
      kvm_userspace_memory_region region = {slot, s.flags, s.gpa, 0, s.uaddr};
      // A slot the kernel refused to delete keeps its mapping forever: unmapping
      // it could let the address be reused while the guest still reaches it.
      if (ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) == 0) Release(s.mapping);
    }
    slots_.clear();
    close(vm_fd_);
    close(kvm_fd_);
    vm_fd_ = -1;
    kvm_fd_ = -1;
  }

  // Whose RAM this VM may map (see AdoptRamBlock); outlives close, so a closed VM's
  // blocks stay refused to every other VM.
  const uint64_t id_ = NewVmId();
  int kvm_fd_ = -1;
  int vm_fd_ = -1;
  size_t mmap_size_ = 0;
  bool has_vcpu_ = false;
  uint32_t dirty_ring_bytes_ = 0;
  std::map<uint32_t, Slot> slots_;
};

void InitVm(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = Vm::Define(env);
  data->vm = Napi::Persistent(ctor);
  exports.Set("Vm", ctor);
}

}  // namespace memtopo
