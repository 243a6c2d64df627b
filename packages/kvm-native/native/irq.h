// The in-kernel interrupt controllers, PIT, GSI routing, irqfds and kvmclock: the VM
// ioctls behind @memtopo/kvm's KvmInterrupts. The Vm class forwards to these with its fd
// (-1 once closed) and whether it has created a vCPU (the kernel refuses some calls then;
// the errno stays the kernel's, the message says why).
#pragma once

#include <napi.h>

namespace memtopo {

using IrqCall = Napi::Value (*)(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);

// createIrqchip(): KVM_CREATE_IRQCHIP.
Napi::Value CreateIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// getIrqchip(chipId) -> the 512-byte chip union; setIrqchip(chipId, bytes).
Napi::Value GetIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
Napi::Value SetIrqchip(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// createPit2(flags); getPit2() -> struct kvm_pit_state2 bytes; setPit2(bytes).
Napi::Value CreatePit2(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
Napi::Value GetPit2(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
Napi::Value SetPit2(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// irqLine(gsi, level) -> KVM_IRQ_LINE_STATUS's status.
Napi::Value IrqLineStatus(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// irqfd(fd, gsi, flags, resamplefd): only eventfds this addon created.
Napi::Value Irqfd(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// setGsiRouting(entries): struct kvm_irq_routing_entry back to back, checked as the kernel does.
Napi::Value SetGsiRouting(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// signalMsi(address, data, flags, devid) -> the kernel's delivery count.
Napi::Value SignalMsi(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// getClock() -> struct kvm_clock_data bytes; setClock(clock, flags, realtime, hostTsc).
Napi::Value GetClock(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
Napi::Value SetClock(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
// setIdentityMapAddr(addr), setTssAddr(addr).
Napi::Value SetIdentityMapAddr(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);
Napi::Value SetTssAddr(const Napi::CallbackInfo& info, int vm_fd, bool has_vcpu);

// Offsets and constants of the structs above, for TypeScript (layout.irq).
Napi::Object IrqLayoutObject(Napi::Env env);

}  // namespace memtopo
