// Shared declarations of the kvm-native addon. The addon is deliberately thin:
// every entry validates its arguments, issues one syscall and reports errno;
// the logic lives in TypeScript.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace memtopo {

// ---- errors (errors.cc) ----------------------------------------------------
// Every error thrown to JS carries `code` (an errno name), `errno` and `syscall`,
// so the TypeScript layer can turn it into a KvmError without parsing text.
void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& detail);
// An argument was rejected before any syscall; `code` is the errno the kernel
// would have used for the same mistake (EINVAL, EFAULT, EBADF, ...).
void ThrowArg(Napi::Env env, int err, const char* op, const std::string& detail);
const char* ErrnoName(int err);

// ---- argument checks (args.cc) ---------------------------------------------
// Each returns false after throwing; callers return immediately.
bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* op);
bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint64_t* out);
bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint32_t* out);
bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint8_t** data,
              size_t* len);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, std::string* out,
               size_t max_len);

// ---- guest RAM mappings (ram.cc) -------------------------------------------
// A mapping lives while anything refers to it: the RamBlock that allocated it,
// the external ArrayBuffer over it, and every memslot that points into it.
struct Mapping;
// The live mapping that wholly contains [addr, addr+len), with a reference taken; nullptr if none.
Mapping* AcquireContaining(uint64_t addr, uint64_t len);
void Release(Mapping* m);
// A fresh VM identity for RAM ownership, unique in the process and never reused.
uint64_t NewVmId();
// Makes the RamBlock `block` belong to VM `vm` (once; again for the same VM is a no-op).
// Throws (EINVAL not a RamBlock, E_RAM_RELEASED, E_RAM_FOREIGN) and returns false otherwise.
bool AdoptRamBlock(Napi::Env env, const char* op, Napi::Value block, uint64_t vm);
// For a memslot of VM `vm`: the block wholly containing [addr, addr+len), with a reference
// taken, if it is live and belongs to `vm`. Otherwise throws EFAULT (no block there),
// E_RAM_RELEASED or E_RAM_FOREIGN and returns nullptr.
Mapping* AcquireForSlot(Napi::Env env, const char* op, uint64_t vm, uint64_t addr, uint64_t len);
// An error whose `code` is a stable E_... name rather than an errno name.
void ThrowRam(Napi::Env env, int err, const char* code, const char* op, const std::string& detail);

// ---- eventfds (eventfd.cc) -------------------------------------------------
// Only eventfds this addon created may be handed to KVM_IOEVENTFD.
bool IsOwnEventfd(int fd);

// ---- vCPU construction (vm.cc -> vcpu.cc) ----------------------------------
// Passed inside a Napi::External, which JS code cannot forge, so `new Vcpu()`
// from JS always fails.
struct VcpuInit {
  int fd;            // KVM_CREATE_VCPU result; the Vcpu owns it from then on
  size_t mmap_size;  // KVM_GET_VCPU_MMAP_SIZE
  uint32_t id;       // the KVM_CREATE_VCPU argument
  uint32_t dirty_ring_bytes;  // the VM's dirty ring size (0: none), which the vCPU maps
};

// ---- per-environment data (addon.cc) ---------------------------------------
struct AddonData {
  Napi::FunctionReference ram_block;
  Napi::FunctionReference vm;
  Napi::FunctionReference vcpu;
};

// ---- module parts ----------------------------------------------------------
Napi::Object LayoutObject(Napi::Env env);
void InitRam(Napi::Env env, Napi::Object exports, AddonData* data);
void InitEventfd(Napi::Env env, Napi::Object exports);
void InitVm(Napi::Env env, Napi::Object exports, AddonData* data);
void InitVcpu(Napi::Env env, Napi::Object exports, AddonData* data);

// Opens the KVM device at `path`, refusing anything that is not the KVM misc device.
// Returns the fd or -errno.
int OpenKvmDevice(const std::string& path);

}  // namespace memtopo
