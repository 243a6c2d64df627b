// Tokens that hand guest RAM and vCPUs from the thread that made them to another
// (a worker running one vCPU). A token is a random number naming an entry of this
// process-wide table; the addon acts only on entries it made itself, so a forged or
// stale token, or one of the wrong kind, is refused and never becomes an fd or an
// address. A RAM share keeps its mapping mapped until it is dropped; a vCPU share
// holds the vCPU fd until one thread adopts it (or it is dropped).
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <mutex>

#include "common.h"
#include "threads.h"

namespace memtopo {

namespace {

struct Share {
  bool is_vcpu;
  // RAM: the shared range, inside `mapping`, which the share keeps alive.
  Mapping* mapping;
  uint64_t addr;
  uint64_t len;
  // vCPU: the fd, kvm_run's size and the vCPU id.
  int fd;
  size_t mmap_size;
  uint32_t id;
};

std::mutex g_share_mutex;
std::map<uint64_t, Share> g_shares;

const uint64_t kTokenMask = (1ULL << 53) - 1;  // a token is a safe integer in JS
const uint64_t kMaxView = 1ULL << 32;          // Node's limit for one ArrayBuffer

// A fresh token (caller holds g_share_mutex), or 0 if the kernel gave no random bytes.
uint64_t NewToken() {
  for (int tries = 0; tries < 8; tries++) {
    uint64_t token = 0;
    if (getrandom(&token, sizeof token, 0) != sizeof token) return 0;
    token &= kTokenMask;
    if (token != 0 && g_shares.count(token) == 0) return token;
  }
  return 0;
}

bool ArgToken(const Napi::CallbackInfo& info, size_t i, const char* op, uint64_t* token) {
  if (!ArgU64(info, i, op, "token", token)) return false;
  if (*token == 0 || *token > kTokenMask) {
    ThrowArg(info.Env(), EINVAL, op, "token must be an integer in [1, 2^53)");
    return false;
  }
  return true;
}

// Finds a live share of the wanted kind, or throws ENOENT / EINVAL (caller holds the lock).
Share* Find(const Napi::CallbackInfo& info, const char* op, uint64_t token, bool want_vcpu) {
  auto it = g_shares.find(token);
  if (it == g_shares.end()) {
    ThrowArg(info.Env(), ENOENT, op, "no live share has this token (never made, dropped, or already adopted)");
    return nullptr;
  }
  if (it->second.is_vcpu != want_vcpu) {
    ThrowArg(info.Env(), EINVAL, op, want_vcpu ? "the token names a RAM share, not a vCPU" : "the token names a vCPU, not RAM");
    return nullptr;
  }
  return &it->second;
}

// shareRam(hostAddr, length): a token for [hostAddr, hostAddr+length), which must lie
// inside one live guest RAM mapping of this addon.
Napi::Value ShareRam(const Napi::CallbackInfo& info) {
  const char* op = "shareRam";
  uint64_t addr = 0;
  uint64_t len = 0;
  if (!ArgCount(info, 2, op) || !ArgU64(info, 0, op, "hostAddr", &addr) || !ArgU64(info, 1, op, "length", &len))
    return info.Env().Undefined();
  if (len == 0) {
    ThrowArg(info.Env(), EINVAL, op, "length must be at least 1");
    return info.Env().Undefined();
  }
  Mapping* m = AcquireContaining(addr, len);
  if (m == nullptr) {
    ThrowArg(info.Env(), EFAULT, op, "the range is not inside a live guest RAM block of this process");
    return info.Env().Undefined();
  }
  std::lock_guard<std::mutex> lock(g_share_mutex);
  uint64_t token = NewToken();
  if (token == 0) {
    Release(m);
    ThrowArg(info.Env(), EAGAIN, op, "no random bytes for a token");
    return info.Env().Undefined();
  }
  g_shares[token] = Share{false, m, addr, len, -1, 0, 0};
  return Napi::Number::New(info.Env(), static_cast<double>(token));
}

// ramView(token, offset, length): an ArrayBuffer over part of a RAM share, in the
// calling thread. It keeps the mapping alive by itself, even after the share is dropped.
Napi::Value RamView(const Napi::CallbackInfo& info) {
  const char* op = "ramView";
  uint64_t token = 0;
  uint64_t offset = 0;
  uint64_t len = 0;
  if (!ArgCount(info, 3, op) || !ArgToken(info, 0, op, &token) || !ArgU64(info, 1, op, "offset", &offset) ||
      !ArgU64(info, 2, op, "length", &len))
    return info.Env().Undefined();
  Mapping* m = nullptr;
  uint64_t addr = 0;
  {
    std::lock_guard<std::mutex> lock(g_share_mutex);
    Share* s = Find(info, op, token, false);
    if (s == nullptr) return info.Env().Undefined();
    if (len == 0 || len > kMaxView || offset > s->len || len > s->len - offset) {
      ThrowArg(info.Env(), EINVAL, op,
               "offset + length must lie in the share's " + std::to_string(s->len) +
                   " bytes, with length in [1, 2^32] (take larger RAM in several views)");
      return info.Env().Undefined();
    }
    addr = s->addr + offset;
    // The share's own reference keeps the mapping in the table while we take ours.
    m = AcquireContaining(addr, len);
  }
  if (m == nullptr) {
    ThrowArg(info.Env(), EFAULT, op, "the shared mapping is gone");
    return info.Env().Undefined();
  }
  napi_value ab;
  napi_status status = napi_create_external_arraybuffer(
      info.Env(), reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), static_cast<size_t>(len),
      [](napi_env, void*, void* hint) { Release(static_cast<Mapping*>(hint)); }, m, &ab);
  if (status != napi_ok) {
    Release(m);
    ThrowArg(info.Env(), ENOMEM, op, "cannot create an external ArrayBuffer here");
    return info.Env().Undefined();
  }
  return Napi::Value(info.Env(), ab);
}

// adoptVcpu(token): [vcpu, id] — a Vcpu of the calling thread, which owns the fd from now on.
Napi::Value AdoptVcpu(const Napi::CallbackInfo& info) {
  const char* op = "adoptVcpu";
  uint64_t token = 0;
  if (!ArgCount(info, 1, op) || !ArgToken(info, 0, op, &token)) return info.Env().Undefined();
  Share s;
  {
    std::lock_guard<std::mutex> lock(g_share_mutex);
    Share* found = Find(info, op, token, true);
    if (found == nullptr) return info.Env().Undefined();
    s = *found;
    g_shares.erase(token);
  }
  Napi::Value vcpu = AdoptVcpuFd(info.Env(), s.fd, s.mmap_size, s.id);
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, vcpu);
  out.Set(1u, Napi::Number::New(info.Env(), s.id));
  return out;
}

// dropShare(token): ends a share (a RAM share's mapping reference, an unadopted vCPU's fd).
// Views already made stay valid. False if the token names no live share.
Napi::Value DropShare(const Napi::CallbackInfo& info) {
  const char* op = "dropShare";
  uint64_t token = 0;
  if (!ArgCount(info, 1, op) || !ArgToken(info, 0, op, &token)) return info.Env().Undefined();
  Share s;
  {
    std::lock_guard<std::mutex> lock(g_share_mutex);
    auto it = g_shares.find(token);
    if (it == g_shares.end()) return Napi::Boolean::New(info.Env(), false);
    s = it->second;
    g_shares.erase(it);
  }
  if (s.is_vcpu) {
    close(s.fd);
  } else {
    Release(s.mapping);
  }
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace

double ShareVcpuFd(int fd, size_t mmap_size, uint32_t id) {
  std::lock_guard<std::mutex> lock(g_share_mutex);
  uint64_t token = NewToken();
  if (token == 0) {
    close(fd);
    return 0;
  }
  g_shares[token] = Share{true, nullptr, 0, 0, fd, mmap_size, id};
  return static_cast<double>(token);
}

void InitShare(Napi::Env env, Napi::Object exports) {
  exports.Set("shareRam", Napi::Function::New<ShareRam>(env, "shareRam"));
  exports.Set("ramView", Napi::Function::New<RamView>(env, "ramView"));
  exports.Set("adoptVcpu", Napi::Function::New<AdoptVcpu>(env, "adoptVcpu"));
  exports.Set("dropShare", Napi::Function::New<DropShare>(env, "dropShare"));
}

}  // namespace memtopo
