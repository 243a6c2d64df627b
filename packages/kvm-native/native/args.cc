#include <cerrno>
#include <cmath>

#include "common.h"

namespace memtopo {

bool ArgCount(const Napi::CallbackInfo& info, size_t n, const char* op) {
  if (info.Length() != n) {
    ThrowArg(info.Env(), EINVAL, op,
             "expected " + std::to_string(n) + " arguments, got " + std::to_string(info.Length()));
    return false;
  }
  return true;
}

// Accepts a bigint in [0, 2^64) or a safe non-negative integer number.
bool ArgU64(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint64_t* out) {
  Napi::Value v = info[i];
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t value = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) {
      ThrowArg(info.Env(), EINVAL, op, std::string(name) + " must be a bigint in [0, 2^64)");
      return false;
    }
    *out = value;
    return true;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d) {
      *out = static_cast<uint64_t>(d);
      return true;
    }
  }
  ThrowArg(info.Env(), EINVAL, op, std::string(name) + " must be a non-negative integer (bigint or safe number)");
  return false;
}

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint32_t* out) {
  Napi::Value v = info[i];
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= 4294967295.0 && std::floor(d) == d) {
      *out = static_cast<uint32_t>(d);
      return true;
    }
  }
  ThrowArg(info.Env(), EINVAL, op, std::string(name) + " must be an integer in [0, 2^32)");
  return false;
}

bool ArgBytes(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, uint8_t** data,
              size_t* len) {
  Napi::Value v = info[i];
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    Napi::Uint8Array array = v.As<Napi::Uint8Array>();
    *data = array.Data();
    *len = array.ByteLength();
    return true;
  }
  ThrowArg(info.Env(), EINVAL, op, std::string(name) + " must be a Uint8Array");
  return false;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, std::string* out,
               size_t max_len) {
  Napi::Value v = info[i];
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() <= max_len && s.find('\0') == std::string::npos) {
      *out = s;
      return true;
    }
  }
  ThrowArg(info.Env(), EINVAL, op,
           std::string(name) + " must be a string of at most " + std::to_string(max_len) + " bytes without NUL");
  return false;
}

}  // namespace memtopo
