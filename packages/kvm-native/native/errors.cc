#include <cerrno>
#include <cstring>

#include "common.h"

namespace memtopo {

// A table rather than strerrorname_np (glibc 2.32+), so that the from-source build
// works on older C libraries too: the errnos KVM ioctls, mmap, memfd and eventfd give.
const char* ErrnoName(int err) {
  switch (err) {
#define NAME(e) \
  case e:       \
    return #e;
    NAME(EPERM) NAME(ENOENT) NAME(ESRCH) NAME(EINTR) NAME(EIO) NAME(ENXIO) NAME(E2BIG) NAME(ENOEXEC)
    NAME(EBADF) NAME(EAGAIN) NAME(ENOMEM) NAME(EACCES) NAME(EFAULT) NAME(EBUSY) NAME(EEXIST) NAME(ENODEV)
    NAME(EINVAL) NAME(ENFILE) NAME(EMFILE) NAME(ENOTTY) NAME(EFBIG) NAME(ENOSPC) NAME(ESPIPE) NAME(EROFS)
    NAME(ERANGE) NAME(EDEADLK) NAME(ENOSYS) NAME(EPROTO) NAME(EOVERFLOW) NAME(EOPNOTSUPP) NAME(ETIMEDOUT)
    NAME(EHWPOISON)
#undef NAME
    default:
      return "EUNKNOWN";
  }
}

static void Throw(Napi::Env env, int err, const char* syscall, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  error.ThrowAsJavaScriptException();
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& detail) {
  std::string message = std::string(ErrnoName(err)) + ": " + strerror(err) + ", " + syscall;
  if (!detail.empty()) message += " (" + detail + ")";
  Throw(env, err, syscall, message);
}

void ThrowArg(Napi::Env env, int err, const char* op, const std::string& detail) {
  Throw(env, err, op, std::string(ErrnoName(err)) + ": " + op + ": " + detail);
}

}  // namespace memtopo
