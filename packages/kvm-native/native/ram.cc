// Guest RAM: memfd (or anonymous) mappings, exposed to JS as one external
// ArrayBuffer each, and the registry that lets the VM check that a memslot's
// userspace_addr lies inside memory this addon owns.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "common.h"

namespace memtopo {

struct Mapping {
  uint8_t* addr;
  size_t map_len;  // page-rounded length of the mmap
  int memfd;       // -1 for anonymous memory
  int refs;
};

// Process-wide: worker threads load the same shared object.
static std::mutex g_mutex;
static std::map<uintptr_t, Mapping*> g_mappings;  // keyed by start address

Mapping* AcquireContaining(uint64_t addr, uint64_t len) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_mappings.upper_bound(static_cast<uintptr_t>(addr));
  if (it == g_mappings.begin()) return nullptr;
  --it;
  Mapping* m = it->second;
  uint64_t start = reinterpret_cast<uintptr_t>(m->addr);
  if (addr < start || len > m->map_len || addr - start > m->map_len - len) return nullptr;
  m->refs++;
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

static const uint64_t kMaxRamBytes = 1ULL << 46;  // 64 TiB: beyond any x86-64 guest and any mmap here

class RamBlock : public Napi::ObjectWrap<RamBlock> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RamBlock",
                       {InstanceMethod<&RamBlock::Buffer>("buffer"), InstanceMethod<&RamBlock::HostAddr>("hostAddr"),
                        InstanceMethod<&RamBlock::MapLength>("mapLength"),
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
    mapping_ = new Mapping{static_cast<uint8_t*>(addr), map_len, fd, 1};
    size_ = size;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_mappings[reinterpret_cast<uintptr_t>(addr)] = mapping_;
  }

  ~RamBlock() override { Drop(); }

 private:
  bool Live(const Napi::CallbackInfo& info, const char* op) {
    if (mapping_ != nullptr) return true;
    ThrowArg(info.Env(), EBADF, op, "RAM block was released");
    return false;
  }

  // The zero-copy view; one ArrayBuffer per block, kept alive by the block.
  Napi::Value Buffer(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "RamBlock.buffer") || !Live(info, "RamBlock.buffer")) return info.Env().Undefined();
    if (!buffer_.IsEmpty()) return buffer_.Value();
    Acquire(mapping_);
    Mapping* m = mapping_;
    napi_value ab;
    napi_status status = napi_create_external_arraybuffer(
        info.Env(), m->addr, static_cast<size_t>(size_),
        [](napi_env, void*, void* hint) { memtopo::Release(static_cast<Mapping*>(hint)); }, m, &ab);
    if (status != napi_ok) {
      memtopo::Release(m);
      ThrowArg(info.Env(), ENOMEM, "RamBlock.buffer",
               status == napi_no_external_buffers_allowed
                   ? "this runtime forbids external ArrayBuffers (V8 sandbox)"
                   : "cannot create an ArrayBuffer of " + std::to_string(size_) + " bytes");
      return info.Env().Undefined();
    }
    buffer_ = Napi::Persistent(Napi::ArrayBuffer(info.Env(), ab));
    return buffer_.Value();
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

  // Detaches the ArrayBuffer so JS can no longer reach the memory, then drops the
  // block's reference. Memslots that still use the mapping keep it mapped.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "RamBlock.release")) return info.Env().Undefined();
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer ab = buffer_.Value();
      if (!ab.IsDetached()) ab.Detach();
    }
    Drop();
    return info.Env().Undefined();
  }

  void Drop() {
    buffer_.Reset();
    if (mapping_ != nullptr) memtopo::Release(mapping_);
    mapping_ = nullptr;
  }

  Mapping* mapping_ = nullptr;
  uint64_t size_ = 0;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

void InitRam(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = RamBlock::Define(env);
  data->ram_block = Napi::Persistent(ctor);
  exports.Set("RamBlock", ctor);
}

}  // namespace memtopo
