// Worker.terminate() and process exit must not wait forever for a thread that is
// blocked in KVM_RUN on a busy guest. Node stops a thread's environment by marking
// it stopping and waking its event loop; a thread inside KVM_RUN never sees either.
// One watch thread waits on the event loops of the threads that run vCPUs (each
// loop's epoll fd, nested edge-triggered in the watch's own epoll) and, when a loop
// wakes, kicks that thread's vCPUs: the run then asks Node whether the environment
// is stopping (EnvStopping) and returns, or enters the guest again.
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <mutex>
#include <set>

#include "common.h"
#include "threads.h"

namespace memtopo {

namespace {

struct EnvWatch {
  napi_env env;
  int loop_fd;
};

std::mutex g_watch_mutex;
std::set<EnvWatch*> g_watches;  // the live ones: the watch thread checks an event's pointer here

void* WatchThread(void* arg) {
  int epoll = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  epoll_event events[16];
  for (;;) {
    int n = epoll_wait(epoll, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(g_watch_mutex);
    for (int i = 0; i < n; i++) {
      EnvWatch* w = static_cast<EnvWatch*>(events[i].data.ptr);
      if (g_watches.count(w) != 0) KickEnvVcpus(w->env);
    }
  }
}

// The watch's epoll fd, and its thread started on first use; -1 if either failed.
int WatchEpoll() {
  static std::once_flag once;
  static int epoll = -1;
  std::call_once(once, [] {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return;
    // Every signal blocked: the watch must never take a signal meant for a vCPU
    // thread, nor one the process handles.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t thread;
    int err = pthread_create(&thread, nullptr, WatchThread, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) {
      close(fd);
      return;
    }
    pthread_detach(thread);
    epoll = fd;
  });
  return epoll;
}

// Env cleanup hook: runs in the env's own thread when Node tears the env down.
void Unwatch(void* arg) {
  EnvWatch* w = static_cast<EnvWatch*>(arg);
  std::lock_guard<std::mutex> lock(g_watch_mutex);
  int epoll = WatchEpoll();
  if (epoll >= 0) epoll_ctl(epoll, EPOLL_CTL_DEL, w->loop_fd, nullptr);
  g_watches.erase(w);
  delete w;
}

}  // namespace

void WatchEnvLoop(napi_env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) return;
  int loop_fd = uv_backend_fd(loop);
  int epoll = WatchEpoll();
  if (loop_fd < 0 || epoll < 0) return;
  EnvWatch* w = new EnvWatch{env, loop_fd};
  std::lock_guard<std::mutex> lock(g_watch_mutex);
  epoll_event ev = {};
  // Edge-triggered: a loop that is not running keeps its events pending, and only new
  // ones (a terminate's wake-up among them) must kick again.
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = w;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, loop_fd, &ev) != 0 ||
      napi_add_env_cleanup_hook(env, Unwatch, w) != napi_ok) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, loop_fd, nullptr);
    delete w;
    return;
  }
  g_watches.insert(w);
}

bool EnvStopping(napi_env env) {
  // Node-API refuses to run JavaScript in an environment that is stopping, and says so
  // with napi_pending_exception: ToBoolean(true) is the cheapest call that asks.
  napi_value value;
  napi_value result;
  if (napi_get_boolean(env, true, &value) != napi_ok) return true;
  return napi_coerce_to_bool(env, value, &result) != napi_ok;
}

}  // namespace memtopo
