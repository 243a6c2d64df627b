// Module entry: registers the classes and functions, and opens /dev/kvm for probe().
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "common.h"
#include "vcpu-state.h"

namespace memtopo {

static const unsigned kMiscMajor = 10;
static const unsigned kKvmMinor = 232;

static bool IsKvmDevice(const struct stat& st) {
  return S_ISCHR(st.st_mode) && major(st.st_rdev) == kMiscMajor && minor(st.st_rdev) == kKvmMinor;
}

int OpenKvmDevice(const std::string& path) {
  struct stat st;
  // Checked before opening too: opening a FIFO, a tty or a watchdog has effects of its own.
  if (stat(path.c_str(), &st) != 0) return -errno;
  if (!IsKvmDevice(st)) return -ENODEV;
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return -errno;
  // KVM ioctls go only to the KVM device, never to whatever file a caller names.
  if (fstat(fd, &st) != 0 || !IsKvmDevice(st)) {
    close(fd);
    return -ENODEV;
  }
  return fd;
}

// probeDevice(path): KVM_GET_API_VERSION of the device, or throws with the errno.
static Napi::Value ProbeDevice(const Napi::CallbackInfo& info) {
  const char* op = "probeDevice";
  std::string path;
  if (!ArgCount(info, 1, op) || !ArgString(info, 0, op, "devicePath", &path, 4096)) return info.Env().Undefined();
  int fd = OpenKvmDevice(path);
  if (fd < 0) {
    ThrowErrno(info.Env(), -fd, "open", path);
    return info.Env().Undefined();
  }
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  int err = errno;
  close(fd);
  if (version < 0) {
    ThrowErrno(info.Env(), err, "ioctl(KVM_GET_API_VERSION)", path);
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), version);
}

static Napi::Value PageSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(sysconf(_SC_PAGESIZE)));
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  env.SetInstanceData(data);
  InitRam(env, exports, data);
  InitEventfd(env, exports);
  InitVm(env, exports, data);
  InitVcpu(env, exports, data);
  InitSystem(env, exports);
  exports.Set("probeDevice", Napi::Function::New<ProbeDevice>(env, "probeDevice"));
  exports.Set("pageSize", Napi::Function::New<PageSize>(env, "pageSize"));
  exports.Set("layout", LayoutObject(env));
  return exports;
}

}  // namespace memtopo

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return memtopo::Init(env, exports); }

NODE_API_MODULE(kvm_native, InitModule)
