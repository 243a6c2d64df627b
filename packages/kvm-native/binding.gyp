{
  "targets": [
    {
      "target_name": "kvm_native",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/args.cc",
        "native/layout.cc",
        "native/ram.cc",
        "native/eventfd.cc",
        "native/vm.cc",
        "native/vcpu.cc",
        "native/vcpu-state.cc",
        "native/vcpu-state-layout.cc",
        "native/system.cc",
        "native/thread-watch.cc",
        "native/share.cc",
        "native/msr-exits.cc",
        "native/dirty-ring.cc",
        "native/irq.cc",
        "native/irq-layout.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc": ["-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
