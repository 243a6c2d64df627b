// One vCPU: KVM_RUN (one per call), registers as raw struct bytes (decoded in
// TypeScript with offsets from layout.cc), the mmapped kvm_run as an external
// ArrayBuffer, kick through immediate_exit, and a pure C exit loop for benchmarks.
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "common.h"
#include "dirty-ring.h"
#include "threads.h"
#include "vcpu-state.h"

namespace memtopo {

namespace {

// The kvm_run mapping outlives the vCPU fd while its ArrayBuffer is alive.
struct RunMapping {
  kvm_run* run;
  size_t len;
  int refs;
};

void ReleaseRun(RunMapping* m) {
  if (--m->refs > 0) return;
  munmap(m->run, m->len);
  delete m;
}

// Cross-thread kicks. A vCPU runs in the thread that called run(); another thread
// (a worker, or the main thread of one) kicks it by id: immediate_exit makes the
// next KVM_RUN return at once, and a signal interrupts one that is blocked inside
// the kernel. Entries leave the registry (under its lock) before kvm_run is unmapped.
struct KickTarget {
  kvm_run* run;
  std::atomic<bool> in_run{false};
  // Why immediate_exit was set: a kick (run() returns KVM_EXIT_INTR), or the thread
  // watch asking whether `env` is stopping (run() returns only if it is).
  std::atomic<bool> kicked{false};
  std::atomic<bool> check_env{false};
  pthread_t thread{};
  napi_env env = nullptr;  // of the thread that ran it last
};

std::mutex g_kick_mutex;
std::map<uint32_t, KickTarget*> g_kick_targets;
uint32_t g_next_kick_id = 1;

int KickSignal() { return SIGRTMIN + 4; }

void InstallKickHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = [](int) {};  // only to interrupt KVM_RUN (no SA_RESTART)
    sigemptyset(&action.sa_mask);
    sigaction(KickSignal(), &action, nullptr);
  });
}

// One KVM_RUN on `fd`; returns kvm_run.exit_reason, or -1 with a JS exception pending. A
// signal without a kick is retried; a kick (immediate_exit) ends the call with KVM_EXIT_INTR.
int RunOnce(const Napi::CallbackInfo& info, int fd, kvm_run* run, KickTarget* kick) {
  // Node starts worker threads with every signal blocked; a blocked kick signal
  // would stay pending and never interrupt KVM_RUN. Initial-exec: read at every exit, the flag
  // is one load relative to the thread pointer, not a call into the dynamic TLS resolver.
  static thread_local bool kick_unblocked __attribute__((tls_model("initial-exec"))) = false;
  if (!kick_unblocked) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KickSignal());
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    WatchEnvLoop(info.Env());
    kick_unblocked = true;
  }
  kick->thread = pthread_self();
  kick->env = info.Env();
  kick->in_run.store(true);
  struct InRun {
    KickTarget* target;
    ~InRun() { target->in_run.store(false); }
  } in_run{kick};
  for (;;) {
    if (ioctl(fd, KVM_RUN, 0) == 0) return static_cast<int>(run->exit_reason);
    int err = errno;
    if (err == EINTR || err == EAGAIN) {
      if (__atomic_exchange_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST) != 0) {
        // Both flags are read: a kick and a watch wake-up can share one immediate_exit.
        bool kicked = kick->kicked.exchange(false);
        bool check_env = kick->check_env.exchange(false);
        if (kicked || (check_env && EnvStopping(info.Env()))) {
          run->exit_reason = KVM_EXIT_INTR;
          return KVM_EXIT_INTR;
        }
      }
      continue;
    }
    ThrowErrno(info.Env(), err, "ioctl(KVM_RUN)", "");
    return -1;
  }
}

// What the function from runner() needs for a KVM_RUN, counted between the Vcpu and every such
// function. A plain function with this as its data skips ObjectWrap's unwrap (a private-property
// lookup) on every exit. Closing or collecting the Vcpu clears it: the function then throws EBADF.
struct RunHandle {
  int fd;
  kvm_run* run;
  KickTarget* kick;
  int refs;
};

void ReleaseHandle(RunHandle* h) {
  if (--h->refs == 0) delete h;
}

Napi::Value RunFunction(const Napi::CallbackInfo& info) {
  RunHandle* h = static_cast<RunHandle*>(info.Data());
  if (!ArgCount(info, 0, "run")) return info.Env().Undefined();
  if (h->fd < 0) {
    ThrowArg(info.Env(), EBADF, "run", "the vCPU is closed");
    return info.Env().Undefined();
  }
  // Its caller decodes kvm_run itself: no exit reason is made into a JS value.
  RunOnce(info, h->fd, h->run, h->kick);
  return info.Env().Undefined();
}

}  // namespace

// kickVcpu(kickId): true when the vCPU exists (and is now kicked), false otherwise.
static Napi::Value KickVcpu(const Napi::CallbackInfo& info) {
  const char* op = "kickVcpu";
  uint32_t id = 0;
  if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "kickId", &id)) return info.Env().Undefined();
  std::lock_guard<std::mutex> lock(g_kick_mutex);
  auto it = g_kick_targets.find(id);
  if (it == g_kick_targets.end()) return Napi::Boolean::New(info.Env(), false);
  KickTarget* target = it->second;
  target->kicked.store(true);
  __atomic_store_n(&target->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (target->in_run.load() && !pthread_equal(target->thread, pthread_self())) {
    pthread_kill(target->thread, KickSignal());
  }
  return Napi::Boolean::New(info.Env(), true);
}

void KickEnvVcpus(napi_env env) {
  std::lock_guard<std::mutex> lock(g_kick_mutex);
  for (auto& [id, target] : g_kick_targets) {
    if (target->env != env) continue;
    // Even one not in KVM_RUN now: its thread may be about to enter it.
    target->check_env.store(true);
    __atomic_store_n(&target->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (target->in_run.load() && !pthread_equal(target->thread, pthread_self())) {
      pthread_kill(target->thread, KickSignal());
    }
  }
}

class Vcpu : public Napi::ObjectWrap<Vcpu> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Vcpu",
                       {InstanceMethod<&Vcpu::Run>("run"), InstanceMethod<&Vcpu::Runner>("runner"),
                        InstanceMethod<&Vcpu::RunBuffer>("runBuffer"),
                        InstanceMethod<&Vcpu::Kick>("kick"), InstanceMethod<&Vcpu::KickId>("kickId"),
                        InstanceMethod<&Vcpu::Transfer>("transfer"), InstanceMethod<&Vcpu::GetRegs>("getRegs"),
                        InstanceMethod<&Vcpu::SetRegs>("setRegs"), InstanceMethod<&Vcpu::GetSregs>("getSregs"),
                        InstanceMethod<&Vcpu::SetSregs>("setSregs"),
                        InstanceMethod<&Vcpu::State<GetCpuid2>>("getCpuid2"),
                        InstanceMethod<&Vcpu::State<SetCpuid2>>("setCpuid2"),
                        InstanceMethod<&Vcpu::State<GetMsrs>>("getMsrs"),
                        InstanceMethod<&Vcpu::State<SetMsrs>>("setMsrs"),
                        InstanceMethod<&Vcpu::State<GetFpu>>("getFpu"), InstanceMethod<&Vcpu::State<SetFpu>>("setFpu"),
                        InstanceMethod<&Vcpu::State<GetXsave>>("getXsave"),
                        InstanceMethod<&Vcpu::State<SetXsave>>("setXsave"),
                        InstanceMethod<&Vcpu::State<GetXcrs>>("getXcrs"),
                        InstanceMethod<&Vcpu::State<SetXcrs>>("setXcrs"),
                        InstanceMethod<&Vcpu::State<GetLapic>>("getLapic"),
                        InstanceMethod<&Vcpu::State<SetLapic>>("setLapic"),
                        InstanceMethod<&Vcpu::State<GetVcpuEvents>>("getVcpuEvents"),
                        InstanceMethod<&Vcpu::State<SetVcpuEvents>>("setVcpuEvents"),
                        InstanceMethod<&Vcpu::State<GetMpState>>("getMpState"),
                        InstanceMethod<&Vcpu::State<SetMpState>>("setMpState"),
                        InstanceMethod<&Vcpu::State<GetDebugRegs>>("getDebugRegs"),
                        InstanceMethod<&Vcpu::State<SetDebugRegs>>("setDebugRegs"),
                        InstanceMethod<&Vcpu::State<SetGuestDebug>>("setGuestDebug"),
                        InstanceMethod<&Vcpu::State<Translate>>("translate"),
                        InstanceMethod<&Vcpu::BenchExitLoop>("benchExitLoop"),
                        InstanceMethod<&Vcpu::ReapDirtyRing>("reapDirtyRing"), InstanceMethod<&Vcpu::Close>("close")});
  }

  Vcpu(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Vcpu>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      ThrowArg(info.Env(), EINVAL, "Vcpu", "vCPUs are created by Vm.createVcpu()");
      return;
    }
    VcpuInit* init = info[0].As<Napi::External<VcpuInit>>().Data();
    void* run = mmap(nullptr, init->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, init->fd, 0);
    if (run == MAP_FAILED) {
      int err = errno;
      close(init->fd);
      ThrowErrno(info.Env(), err, "mmap", "kvm_run");
      return;
    }
    int ring_err = dirty_ring_.Map(init->fd, init->dirty_ring_bytes);
    if (ring_err != 0) {
      munmap(run, init->mmap_size);
      close(init->fd);
      ThrowErrno(info.Env(), ring_err, "mmap", "dirty ring");
      return;
    }
    fd_ = init->fd;
    id_ = init->id;
    mapping_ = new RunMapping{static_cast<kvm_run*>(run), init->mmap_size, 1};
    InstallKickHandler();
    kick_ = new KickTarget();
    kick_->run = mapping_->run;
    std::lock_guard<std::mutex> lock(g_kick_mutex);
    kick_id_ = g_next_kick_id++;
    g_kick_targets[kick_id_] = kick_;
    handle_ = new RunHandle{fd_, mapping_->run, kick_, 1};
  }

  ~Vcpu() override { Shutdown(); }

 private:
  bool Open(const Napi::CallbackInfo& info, const char* op) {
    if (fd_ >= 0) return true;
    ThrowArg(info.Env(), EBADF, op, "the vCPU is closed");
    return false;
  }

  // One KVM_RUN; returns kvm_run.exit_reason (see RunOnce).
  Napi::Value Run(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "run") || !Open(info, "run")) return info.Env().Undefined();
    int reason = RunOnce(info, fd_, mapping_->run, kick_);
    return reason < 0 ? info.Env().Undefined() : Napi::Number::New(info.Env(), reason);
  }

  // A function that does what run() does, without the method's unwrap (see RunHandle). On a
  // closed vCPU it is one that throws run()'s EBADF.
  Napi::Value Runner(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "runner")) return info.Env().Undefined();
    RunHandle* h = handle_ != nullptr ? handle_ : new RunHandle{-1, nullptr, nullptr, 0};
    Napi::Function fn = Napi::Function::New<RunFunction>(info.Env(), "run", h);
    if (info.Env().IsExceptionPending()) {
      if (h->refs == 0) delete h;
      return info.Env().Undefined();
    }
    h->refs++;
    fn.AddFinalizer([](Napi::Env, RunHandle* handle) { ReleaseHandle(handle); }, h);
    return fn;
  }

  Napi::Value RunBuffer(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "runBuffer") || !Open(info, "runBuffer")) return info.Env().Undefined();
    if (!buffer_.IsEmpty()) return buffer_.Value();
    RunMapping* m = mapping_;
    m->refs++;
    napi_value ab;
    napi_status status = napi_create_external_arraybuffer(
        info.Env(), m->run, m->len, [](napi_env, void*, void* hint) { ReleaseRun(static_cast<RunMapping*>(hint)); },
        m, &ab);
    if (status != napi_ok) {
      ReleaseRun(m);
      ThrowArg(info.Env(), ENOMEM, "runBuffer", "cannot expose kvm_run as an external ArrayBuffer");
      return info.Env().Undefined();
    }
    buffer_ = Napi::Persistent(Napi::ArrayBuffer(info.Env(), ab));
    return buffer_.Value();
  }

  Napi::Value ReapDirtyRing(const Napi::CallbackInfo& info) {
    if (!Open(info, "reapDirtyRing")) return info.Env().Undefined();
    return dirty_ring_.Reap(info);
  }

  Napi::Value KickId(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "kickId") || !Open(info, "kickId")) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), kick_id_);
  }

  // transfer(): hands the vCPU fd to a new share and closes this object, whose kvm_run
  // view is detached; another thread adopts the token (share.cc) with a kvm_run of its own.
  Napi::Value Transfer(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "transfer") || !Open(info, "transfer")) return info.Env().Undefined();
    int fd = dup(fd_);
    if (fd < 0) {
      ThrowErrno(info.Env(), errno, "dup", "vCPU fd");
      return info.Env().Undefined();
    }
    size_t mmap_size = mapping_->len;
    double token = ShareVcpuFd(fd, mmap_size, id_);
    if (token == 0) {
      ThrowArg(info.Env(), EAGAIN, "transfer", "no random bytes for a token");
      return info.Env().Undefined();
    }
    DetachBuffer();
    Shutdown();
    return Napi::Number::New(info.Env(), token);
  }

  Napi::Value Kick(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "kick") || !Open(info, "kick")) return info.Env().Undefined();
    kick_->kicked.store(true);
    __atomic_store_n(&mapping_->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    return info.Env().Undefined();
  }

  template <typename T>
  Napi::Value GetStruct(const Napi::CallbackInfo& info, const char* op, unsigned long request, const char* name) {
    if (!ArgCount(info, 0, op) || !Open(info, op)) return info.Env().Undefined();
    T value;
    memset(&value, 0, sizeof value);
    if (ioctl(fd_, request, &value) < 0) {
      ThrowErrno(info.Env(), errno, name, "");
      return info.Env().Undefined();
    }
    Napi::Uint8Array out = Napi::Uint8Array::New(info.Env(), sizeof value);
    if (info.Env().IsExceptionPending()) return info.Env().Undefined();
    memcpy(out.Data(), &value, sizeof value);
    return out;
  }

  template <typename T>
  Napi::Value SetStruct(const Napi::CallbackInfo& info, const char* op, unsigned long request, const char* name) {
    uint8_t* data = nullptr;
    size_t len = 0;
    if (!ArgCount(info, 1, op) || !ArgBytes(info, 0, op, "bytes", &data, &len) || !Open(info, op))
      return info.Env().Undefined();
    if (len != sizeof(T)) {
      ThrowArg(info.Env(), EINVAL, op, "bytes must be exactly " + std::to_string(sizeof(T)) + " bytes long");
      return info.Env().Undefined();
    }
    T value;
    memcpy(&value, data, sizeof value);
    if (ioctl(fd_, request, &value) < 0) ThrowErrno(info.Env(), errno, name, "");
    return info.Env().Undefined();
  }

  // The typed-state ioctls (vcpu-state.cc) take the fd, -1 once closed.
  template <VcpuStateCall call>
  Napi::Value State(const Napi::CallbackInfo& info) {
    return call(info, fd_);
  }

  Napi::Value GetRegs(const Napi::CallbackInfo& info) {
    return GetStruct<kvm_regs>(info, "getRegs", KVM_GET_REGS, "ioctl(KVM_GET_REGS)");
  }
  Napi::Value SetRegs(const Napi::CallbackInfo& info) {
    return SetStruct<kvm_regs>(info, "setRegs", KVM_SET_REGS, "ioctl(KVM_SET_REGS)");
  }
  Napi::Value GetSregs(const Napi::CallbackInfo& info) {
    return GetStruct<kvm_sregs>(info, "getSregs", KVM_GET_SREGS, "ioctl(KVM_GET_SREGS)");
  }
  Napi::Value SetSregs(const Napi::CallbackInfo& info) {
    return SetStruct<kvm_sregs>(info, "setSregs", KVM_SET_SREGS, "ioctl(KVM_SET_SREGS)");
  }

  // The C baseline for bench/exits.mjs: runs until maxExits IO/MMIO exits or any
  // other exit, answering reads with zeros. Returns [exits, lastExitReason].
  Napi::Value BenchExitLoop(const Napi::CallbackInfo& info) {
    const char* op = "benchExitLoop";
    uint32_t max_exits = 0;
    if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "maxExits", &max_exits) || !Open(info, op))
      return info.Env().Undefined();
    kvm_run* run = mapping_->run;
    uint8_t* base = reinterpret_cast<uint8_t*>(run);
    uint32_t exits = 0;
    uint32_t reason = KVM_EXIT_UNKNOWN;
    while (exits < max_exits) {
      if (ioctl(fd_, KVM_RUN, 0) < 0) {
        if (errno == EINTR || errno == EAGAIN) {
          // A kick (or the thread watch) ends the loop: KVM_RUN would fail at once again.
          if (__atomic_exchange_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST) != 0) {
            kick_->kicked.store(false);
            kick_->check_env.store(false);
            reason = KVM_EXIT_INTR;
            break;
          }
          continue;
        }
        ThrowErrno(info.Env(), errno, "ioctl(KVM_RUN)", "");
        return info.Env().Undefined();
      }
      reason = run->exit_reason;
      if (reason == KVM_EXIT_IO) {
        uint64_t bytes = static_cast<uint64_t>(run->io.size) * run->io.count;
        if (run->io.direction == KVM_EXIT_IO_IN && run->io.data_offset + bytes <= mapping_->len)
          memset(base + run->io.data_offset, 0, static_cast<size_t>(bytes));
      } else if (reason == KVM_EXIT_MMIO) {
        if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof run->mmio.data);
      } else {
        break;
      }
      exits++;
    }
    Napi::Array out = Napi::Array::New(info.Env(), 2);
    out.Set(0u, Napi::Number::New(info.Env(), exits));
    out.Set(1u, Napi::Number::New(info.Env(), reason));
    return out;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!ArgCount(info, 0, "close")) return info.Env().Undefined();
    DetachBuffer();
    Shutdown();
    return info.Env().Undefined();
  }

  void DetachBuffer() {
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer ab = buffer_.Value();
      if (!ab.IsDetached()) ab.Detach();
    }
  }

  void Shutdown() {
    if (handle_ != nullptr) {
      handle_->fd = -1;
      handle_->run = nullptr;
      handle_->kick = nullptr;
      ReleaseHandle(handle_);
      handle_ = nullptr;
    }
    if (kick_ != nullptr) {
      std::lock_guard<std::mutex> lock(g_kick_mutex);
      g_kick_targets.erase(kick_id_);
      delete kick_;
      kick_ = nullptr;
    }
    buffer_.Reset();
    dirty_ring_.Unmap();
    if (mapping_ != nullptr) ReleaseRun(mapping_);
    mapping_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  int fd_ = -1;
  uint32_t id_ = 0;
  RunMapping* mapping_ = nullptr;
  DirtyRing dirty_ring_;
  KickTarget* kick_ = nullptr;
  uint32_t kick_id_ = 0;
  RunHandle* handle_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
};

void InitVcpu(Napi::Env env, Napi::Object exports, AddonData* data) {
  Napi::Function ctor = Vcpu::Define(env);
  data->vcpu = Napi::Persistent(ctor);
  exports.Set("Vcpu", ctor);
  exports.Set("kickVcpu", Napi::Function::New<KickVcpu>(env, "kickVcpu"));
  InitShare(env, exports);
}

Napi::Value AdoptVcpuFd(Napi::Env env, int fd, size_t mmap_size, uint32_t id) {
  VcpuInit init = {fd, mmap_size, id};
  AddonData* data = env.GetInstanceData<AddonData>();
  return data->vcpu.New({Napi::External<VcpuInit>::New(env, &init)});
}

}  // namespace memtopo
