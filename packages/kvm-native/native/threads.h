// vCPUs and guest RAM across worker threads: the kick registry (vcpu.cc), the
// watch that kicks a thread's vCPUs when its environment stops (thread-watch.cc),
// and the tokens that hand RAM and vCPUs to another thread (share.cc).
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace memtopo {

// ---- vcpu.cc ----------------------------------------------------------------
// Kicks every vCPU that `env`'s thread ran, asking each to check whether `env` is
// stopping (see RunOnce). Called by the watch thread and by env cleanup.
void KickEnvVcpus(napi_env env);
// Builds a Vcpu object of `env` around a vCPU fd handed over by another thread.
Napi::Value AdoptVcpuFd(Napi::Env env, int fd, size_t mmap_size, uint32_t id);

// ---- thread-watch.cc ---------------------------------------------------------
// Called by the first KVM_RUN of a thread: from then on, a wake-up of `env`'s event
// loop (Worker.terminate() and process exit both send one) kicks that thread's vCPUs.
void WatchEnvLoop(napi_env env);
// True once Node stops `env` (Worker.terminate(), process exit): its thread must not run guests any more.
bool EnvStopping(napi_env env);

// ---- share.cc ----------------------------------------------------------------
// Parks a vCPU fd (with its kvm_run size and id) under a new token; the fd is the
// share's until a thread adopts it. Returns 0 (fd closed) if no token could be made.
double ShareVcpuFd(int fd, size_t mmap_size, uint32_t id);
void InitShare(Napi::Env env, Napi::Object exports);

}  // namespace memtopo
