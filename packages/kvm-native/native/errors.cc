#include <cerrno>
#include <cstring>

#include "common.h"

namespace memtopo {

const char* ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "EUNKNOWN";
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
