// Guest RAM: memfd (or anonymous) mappings, each owned by one RamBlock, seen from JS
// through external ArrayBuffers (the whole block, or 2 GiB windows of a larger one),
// and the registry that lets a VM check that a memslot's userspace_addr lies inside a
// live block that belongs to that VM.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>

#include "common.h"

namespace memtopo {

struct Mapping {
  uint8_t* addr;
  size_t map_len;  // page-rounded length of the mmap
  int memfd;       // -1 for anonymous memory
  int refs;        // the block, counted views, memslots, shares: munmap at zero
  uint64_t owner;  // the VM id this block belongs to; 0 until a VM adopts it
  bool released;   // the block was released (or collected): no new memslot may use it
};

// Process-wide: worker threads load the same shared object, and a VM of one thread must
// be refused another thread's RAM just as another VM's.
static std::mutex g_mutex;
static std::map<uintptr_t, Mapping*> g_mappings;  // keyed by start address
static std::atomic<uint64_t> g_next_vm_id{1};

uint64_t NewVmId() { return g_next_vm_id.fetch_add(1); }

static Mapping* FindContaining(uint64_t addr, uint64_t len) {
  auto it = g_mappings.upper_bound(static_cast<uintptr_t>(addr));
  if (it == g_mappings.begin()) return nullptr;
  --it;
  Mapping* m = it->second;
  uint64_t start = reinterpret_cast<uintptr_t>(m->addr);
  if (addr < start || len > m->map_len || addr - start > m->map_len - len) return nullptr;
  return m;
}

Mapping* AcquireContaining(uint64_t addr, uint64_t len) {
  std::lock_guard<std::mutex> lock(g_mutex);
  Mapping* m = FindContaining(addr, len);
  if (m != nullptr) m->refs++;
  return m;
}

static void Acquire(Mapping* m) {
  std::lock_guard<std::mutex> lock(g_mutex);
  m->refs++;
}

void Release(Mapping* m) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (--m->refs > 0) return;
    g_mappings.erase(reinterpret_cast<uintptr_t>(m->addr));
  }
  munmap(m->addr, m->map_len);
  if (m->memfd >= 0) close(m->memfd);
  delete m;
}

void ThrowRam(Napi::Env env, int err, const char* code, const char* op, const std::string& detail) {
  Napi::Error error = Napi::Error::New(env, std::string(code) + ": " + op + ": " + detail);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, op));
  error.ThrowAsJavaScriptException();
}

Mapping* AcquireForSlot(Napi::Env env, const char* op, uint64_t vm, uint64_t addr, uint64_t len) {
  std::unique_lock<std::mutex> lock(g_mutex);
  Mapping* m = FindContaining(addr, len);
  if (m == nullptr) {
    lock.unlock();
    ThrowArg(env, EFAULT, op, "userspaceAddr..+memorySize is not inside a RAM block of this addon");
    return nullptr;
  }
  if (m->released) {
    lock.unlock();
    ThrowRam(env, EBADF, "E_RAM_RELEASED", op, "userspaceAddr points into a RAM block that was released");
    return nullptr;
  }
  if (m->owner != vm) {
    bool unowned = m->owner == 0;
    lock.unlock();
    ThrowRam(env, EPERM, "E_RAM_FOREIGN", op,
             unowned ? "userspaceAddr points into a RAM block no VM has adopted (adopt its allocator first)"
                     : "userspaceAddr points into a RAM block of another VM");
    return nullptr;
  }
  m->refs++;
  return m;
}

static const uint64_t kMaxRamBytes = 1ULL << 46;  // 64 TiB: beyond any x86-64 guest and any mmap here
// Node refuses one ArrayBuffer over 2^32 bytes; larger blocks are seen through windows.
static const uint64_t kMaxWholeView = 1ULL << 32;
// Window i covers [i * kWindowStep, i * kWindowStep + 2 * kWindowStep): consecutive windows
// overlap by a step, so any range of up to one step lies whole inside the window where it starts.
static const uint64_t kWindowStep = 1ULL << 30;

// Distinguishes a RamBlock wrapper from any other object, whatever its prototype says. The
// address of this function mixed in makes the tag differ between two builds of the addon
// loaded in one process, whose RamBlock classes need not match.
static napi_type_tag RamBlockTag() {
  static const napi_type_tag tag = {0x6d656d746f706f52ULL ^ reinterpret_cast<uintptr_t>(&RamBlockTag),
                                    0x616d426c6f636b31ULL};
  return tag;
}

// A view's claim on the mapping. While `counted`, the view holds a mapping reference
// that its finalizer drops; release() detaches the view and drops it at once instead.
struct View {
  Mapping* mapping;
  bool counted;
};

struct ViewRef {
  Napi::Reference<Napi::ArrayBuffer> buffer;
  View* view;
};

class RamBlock : public Napi::ObjectWrap<RamBlock> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RamBlock",
                       {InstanceMethod<&RamBlock::Buffer>("buffer"), InstanceMethod<&RamBlock::Window>("window"),
                        InstanceMethod<&RamBlock::HostAddr>("hostAddr"),
                        InstanceMethod<&RamBlock::MapLength>("mapLength"),
                        InstanceMethod<&RamBlock::Discard>("discard"),
                        InstanceMethod<&RamBlock::Release>("release")});
  }

  // new RamBlock(name: string, size: bigint)
  RamBlock(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RamBlock>(info) {
    const char* op = "RamBlock";
    std::string name;
    uint64_t size = 0;
    if (!ArgCount(info, 2, op) || !ArgString(info, 0, op, "name", &name, 249) ||
        !ArgU64(info, 1, op, "size", &size))
      return;
    if (size == 0 || size > kMaxRamBytes) {
      ThrowArg(info.Env(), EINVAL, op, "size must be in [1, 2^46]");
      return;
    }
    const napi_type_tag tag = RamBlockTag();
    if (napi_type_tag_object(info.Env(), info.This(), &tag) != napi_ok) {
      ThrowArg(info.Env(), EINVAL, op, "cannot tag the RamBlock object");
      return;
    }
    long page = sysconf(_SC_PAGESIZE);
    size_t map_len = static_cast<size_t>((size + page - 1) / page * page);
    int fd = memfd_create(name.empty() ? "memtopo-ram" : name.c_str(), MFD_CLOEXEC);
    void* addr = MAP_FAILED;
    if (fd >= 0) {
      if (ftruncate(fd, static_cast<off_t>(map_len)) != 0) {
        int err = errno;
        close(fd);
        ThrowErrno(info.Env(), err, "ftruncate", "memfd of " + std::to_string(map_len) + " bytes");
        return;
      }
      addr = mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    } else {
      addr = mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (addr == MAP_FAILED) {
      int err = errno;
      if (fd >= 0) close(fd);
      ThrowErrno(info.Env(), err, "mmap", std::to_string(map_len) + " bytes of guest RAM");
      return;
    }
    mapping_ = new Mapping{static_cast<uint8_t*>(addr), map_len, fd, 1, 0, false};
    size_ = size;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_mappings[reinterpret_cast<uintptr_t>(addr)] = mapping_;
  }

  // Collected without release(): views still reachable keep the memory mapped (they
  // stay counted), and the block's own reference goes.
  ~RamBlock() override {
    for (auto& [index, ref] : windows_) ref.buffer.Reset();
    whole_.buffer.Reset();
    Drop();
  }

  // Gives `vm` the block, once: adopting it again for the same VM is a no-op.
  bool Adopt(Napi::Env env, const char* op, uint64_t vm) {
    if (mapping_ == nullptr) {
      ThrowRam(env, EBADF, "E_RAM_RELEASED", op, "the RAM block was released");
      return false;
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    if (mapping_->owner != 0 && mapping_->owner != vm) {
      ThrowRam(env, EPERM, "E_RAM_FOREIGN", op, "the RAM block already belongs to another VM");
      return false;
    }
    mapping_->owner = vm;
    return true;
  }

 private:
  bool Live(const Napi::CallbackInfo& info, const char* op) {
    if (mapping_ != nullptr) return true;
    ThrowArg(info.Env(), EBADF, op, "RAM block was released");
    return false;
  }

  // A zero-copy ArrayBuffer over [offset, offset+len) of the block, counted as a user of
  // the mapping until release() detaches it or the garbage collector takes it.
  Napi::Value NewView(Napi::Env env, const char* op, uint64_t offset, uint64_t len, ViewRef* out) {
    View* view = new View{mapping_, true};
    Acquire(mapping_);
    napi_value ab;
    napi_status status = napi_create_external_arraybuffer(
        env, mapping_->addr + offset, static_cast<size_t>(len),
        [](napi_env, void*, void* hint) {
          View* v = static_cast<View*>(hint);
          if (v->counted) memtopo::Release(v->mapping);
          delete v;
        },
        view, &ab);
    if (status != napi_ok) {
      memtopo::Release(mapping_);
      delete view;
      // V8's own RangeError may be pending: ours replaces it (throwing over it aborts).
      napi_value ignored;
      if (env.IsExceptionPending()) napi_get_and_clear_last_exception(env, &ignored);
      ThrowRam(env, ENOMEM, "E_RAM_TOO_LARGE", op,
               status == napi_no_external_buffers_allowed
                   ? "this runtime forbids external ArrayBuffers (V8 sandbox)"
                   : "cannot create an ArrayBuffer of " + std::to_string(len) + " bytes");
      return env.Undefined();
    }
    Napi::ArrayBuffer buffer(env, ab);
    out->buffer = Napi::Persistent(buffer);
    out->view = view;
    return buffer;
  }

  // The whole block as one ArrayBuffer, made once; blocks over 4 GiB are refused.
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    const char* op = "RamBlock.buffer";
    if (!ArgCount(info, 0, op) || !Live(info, op)) return info.Env().Undefined();
    if (!whole_.buffer.IsEmpty()) return whole_.buffer.Value();
    if (size_ > kMaxWholeView) {
      ThrowRam(info.Env(), EFBIG, "E_RAM_TOO_LARGE", op,
               "a block of " + std::to_string(size_) + " bytes exceeds one ArrayBuffer (2^32): use window()");
      return info.Env().Undefined();
    }
    return NewView(info.Env(), op, 0, size_, &whole_);
  }

  // window(index): bytes [index * 2^30, min(size, index * 2^30 + 2^31)), made once per index.
  Napi::Value Window(const Napi::CallbackInfo& info) {
    const char* op = "RamBlock.window";
    uint32_t index = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "index", &index) || !Live(info, op))
      return info.Env().Undefined();
    uint64_t start = static_cast<uint64_t>(index) * kWindowStep;
    if (start >= size_) {
      ThrowRam(info.Env(), EINVAL, "E_RAM_RANGE", op,
               "window " + std::to_string(index) + " starts past the block's " + std::to_string(size_) + " bytes");
      return info.Env().Undefined();
    }
    auto it = windows_.find(index);
    if (it != windows_.end()) return it->second.buffer.Value();
    uint64_t len = size_ - start < 2 * kWindowStep ? size_ - start : 2 * kWindowStep;
    ViewRef ref{};
    Napi::Value buffer = NewView(info.Env(), op, start, len, &ref);
    if (info.Env().IsExceptionPending()) return info.Env().Undefined();
    windows_.emplace(index, std::move(ref));
    return buffer;
  }

  Napi::Value HostAddr(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "RamBlock.hostAddr") || !Live(info, "RamBlock.hostAddr")) return info.Env().Undefined();
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(reinterpret_cast<uintptr_t>(mapping_->addr)));
  }

  Napi::Value MapLength(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "RamBlock.mapLength") || !Live(info, "RamBlock.mapLength"))
      return info.Env().Undefined();
    return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(mapping_->map_len));
  }

  // discard(offset: bigint, length: bigint): gives the host pages of [offset, offset+length) back
  // (QEMU's ram_block_discard_range): a hole punched in the memfd, then the mapping's pages
  // dropped, so the range reads as zeros afterwards and no longer counts in the process's RSS.
  // Both bounds must be host-page aligned and lie in the mapping.
  Napi::Value Discard(const Napi::CallbackInfo& info) {
    const char* op = "RamBlock.discard";
    uint64_t offset = 0;
    uint64_t length = 0;
    if (!ArgCount(info, 2, op) || !ArgU64(info, 0, op, "offset", &offset) ||
        !ArgU64(info, 1, op, "length", &length) || !Live(info, op))
      return info.Env().Undefined();
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    const uint64_t map_len = mapping_->map_len;
    if (offset % page != 0 || length % page != 0 || length == 0) {
      ThrowArg(info.Env(), EINVAL, op, "offset and length must be multiples of the host page, length above 0");
      return info.Env().Undefined();
    }
    if (offset > map_len || length > map_len - offset) {
      ThrowArg(info.Env(), EINVAL, op,
               "offset..+length leaves the block's " + std::to_string(map_len) + " mapped bytes");
      return info.Env().Undefined();
    }
    if (mapping_->memfd >= 0 &&
        fallocate(mapping_->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
      ThrowErrno(info.Env(), errno, "fallocate", "punching a hole of " + std::to_string(length) + " bytes");
      return info.Env().Undefined();
    }
    // Anonymous memory is freed here; for the memfd this drops the mapping's pages, which now
    // fall back on the hole just punched.
    if (madvise(mapping_->addr + offset, static_cast<size_t>(length), MADV_DONTNEED) != 0) {
      ThrowErrno(info.Env(), errno, "madvise", "MADV_DONTNEED over " + std::to_string(length) + " bytes");
    }
    return info.Env().Undefined();
  }

  // Detaches every view so JS can no longer reach the memory, drops their references
  // and the block's own: the memory is unmapped and the memfd closed before this
  // returns, unless a memslot or a thread share still uses it.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "RamBlock.release")) return info.Env().Undefined();
    if (mapping_ == nullptr) return info.Env().Undefined();
    Detach(info.Env(), &whole_);
    for (auto& [index, ref] : windows_) Detach(info.Env(), &ref);
    windows_.clear();
    Drop();
    return info.Env().Undefined();
  }

  // The view's reference goes only once it is detached: a view that somehow cannot be
  // detached keeps the memory mapped until the garbage collector takes it.
  void Detach(Napi::Env env, ViewRef* ref) {
    if (ref->buffer.IsEmpty()) return;
    Napi::ArrayBuffer buffer = ref->buffer.Value();
    bool detached = false;
    if (napi_detach_arraybuffer(env, buffer) == napi_ok) detached = true;
    if (!detached && env.IsExceptionPending()) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    if (detached && ref->view->counted) {
      ref->view->counted = false;
      memtopo::Release(ref->view->mapping);
    }
    ref->buffer.Reset();
    ref->view = nullptr;
  }

  void Drop() {
    if (mapping_ == nullptr) return;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      mapping_->released = true;
    }
    memtopo::Release(mapping_);
    mapping_ = nullptr;
  }

  Mapping* mapping_ = nullptr;
  uint64_t size_ = 0;
  ViewRef whole_{};
  std::map<uint32_t, ViewRef> windows_;
};

bool AdoptRamBlock(Napi::Env env, const char* op, Napi::Value value, uint64_t vm) {
  bool tagged = false;
  const napi_type_tag tag = RamBlockTag();
  if (!value.IsObject() || napi_check_object_type_tag(env, value, &tag, &tagged) != napi_ok || !tagged) {
    ThrowArg(env, EINVAL, op, "block must be a RamBlock of this addon");
    return false;
  }
  void* wrapped = nullptr;
  if (napi_unwrap(env, value, &wrapped) != napi_ok || wrapped == nullptr) {
    ThrowArg(env, EINVAL, op, "block must be a RamBlock of this addon");
    return false;
  }
  return static_cast<RamBlock*>(wrapped)->Adopt(env, op, vm);
}

void InitRam(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = RamBlock::Define(env);
  data->ram_block = Napi::Persistent(ctor);
  exports.Set("RamBlock", ctor);
}

}  // namespace memtopo
