// eventfds for ioeventfd: create, read (the counter, reset to 0), write, close.
// Fds are plain numbers in JS, so only the ones created here are accepted.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>

#include "common.h"

namespace memtopo {

static std::mutex g_mutex;
static std::set<int> g_eventfds;

bool IsOwnEventfd(int fd) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_eventfds.count(fd) != 0;
}

static bool ArgOwnFd(const Napi::CallbackInfo& info, const char* op, int* fd) {
  uint32_t value = 0;
  if (!ArgU32(info, 0, op, "fd", &value)) return false;
  if (value > 0x7fffffff || !IsOwnEventfd(static_cast<int>(value))) {
    ThrowArg(info.Env(), EBADF, op, "fd " + std::to_string(value) + " is not an open eventfd of this addon");
    return false;
  }
  *fd = static_cast<int>(value);
  return true;
}

static Napi::Value EventfdCreate(const Napi::CallbackInfo& info) {
  if (!ArgCount(info, 0, "eventfdCreate")) return info.Env().Undefined();
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    ThrowErrno(info.Env(), errno, "eventfd", "");
    return info.Env().Undefined();
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  g_eventfds.insert(fd);
  return Napi::Number::New(info.Env(), fd);
}

// Returns the counter as a bigint and resets it, or null when it is 0 (EAGAIN).
static Napi::Value EventfdRead(const Napi::CallbackInfo& info) {
  const char* op = "eventfdRead";
  int fd = -1;
  if (!ArgCount(info, 1, op) || !ArgOwnFd(info, op, &fd)) return info.Env().Undefined();
  uint64_t value = 0;
  ssize_t n = read(fd, &value, sizeof value);
  if (n == sizeof value) return Napi::BigInt::New(info.Env(), value);
  if (n < 0 && errno == EAGAIN) return info.Env().Null();
  ThrowErrno(info.Env(), n < 0 ? errno : EIO, "read", "eventfd " + std::to_string(fd));
  return info.Env().Undefined();
}

static Napi::Value EventfdWrite(const Napi::CallbackInfo& info) {
  const char* op = "eventfdWrite";
  int fd = -1;
  uint64_t value = 0;
  if (!ArgCount(info, 2, op) || !ArgOwnFd(info, op, &fd) || !ArgU64(info, 1, op, "value", &value))
    return info.Env().Undefined();
  if (value == 0 || value == UINT64_MAX) {
    ThrowArg(info.Env(), EINVAL, op, "value must be in [1, 2^64-2]");
    return info.Env().Undefined();
  }
  ssize_t n = write(fd, &value, sizeof value);
  if (n != sizeof value) ThrowErrno(info.Env(), n < 0 ? errno : EIO, "write", "eventfd " + std::to_string(fd));
  return info.Env().Undefined();
}

static Napi::Value EventfdClose(const Napi::CallbackInfo& info) {
  const char* op = "eventfdClose";
  int fd = -1;
  if (!ArgCount(info, 1, op) || !ArgOwnFd(info, op, &fd)) return info.Env().Undefined();
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_eventfds.erase(fd);
  }
  close(fd);
  return info.Env().Undefined();
}

void InitEventfd(Napi::Env env, Napi::Object exports) {
  exports.Set("eventfdCreate", Napi::Function::New<EventfdCreate>(env, "eventfdCreate"));
  exports.Set("eventfdRead", Napi::Function::New<EventfdRead>(env, "eventfdRead"));
  exports.Set("eventfdWrite", Napi::Function::New<EventfdWrite>(env, "eventfdWrite"));
  exports.Set("eventfdClose", Napi::Function::New<EventfdClose>(env, "eventfdClose"));
}

}  // namespace memtopo
