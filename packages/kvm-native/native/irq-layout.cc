// Offsets and constants of the interrupt, PIT, routing and clock structs, computed from
// <linux/kvm.h> so TypeScript encodes and decodes them without hard-coding a layout.
#include <linux/kvm.h>

#include <cstddef>

#include "irq.h"

namespace memtopo {

static_assert(sizeof(kvm_pic_state) == 16, "kvm_pic_state");
static_assert(sizeof(kvm_pit_channel_state) == 24, "kvm_pit_channel_state");
static_assert(sizeof(kvm_pit_state2) == 112, "kvm_pit_state2");
static_assert(sizeof(kvm_irq_routing_entry) == 48, "kvm_irq_routing_entry");
static_assert(sizeof(kvm_clock_data) == 48, "kvm_clock_data");
static_assert(sizeof(((kvm_ioapic_state*)nullptr)->redirtbl[0]) == 8, "kvm_ioapic_state.redirtbl");

#define SET(obj, name, value) obj.Set(name, Napi::Number::New(env, static_cast<double>(value)))

Napi::Object IrqLayoutObject(Napi::Env env) {
  Napi::Object irq = Napi::Object::New(env);

  Napi::Object pic = Napi::Object::New(env);
  SET(pic, "lastIrr", offsetof(kvm_pic_state, last_irr));
  SET(pic, "irr", offsetof(kvm_pic_state, irr));
  SET(pic, "imr", offsetof(kvm_pic_state, imr));
  SET(pic, "isr", offsetof(kvm_pic_state, isr));
  SET(pic, "priorityAdd", offsetof(kvm_pic_state, priority_add));
  SET(pic, "irqBase", offsetof(kvm_pic_state, irq_base));
  SET(pic, "readRegSelect", offsetof(kvm_pic_state, read_reg_select));
  SET(pic, "poll", offsetof(kvm_pic_state, poll));
  SET(pic, "specialMask", offsetof(kvm_pic_state, special_mask));
  SET(pic, "initState", offsetof(kvm_pic_state, init_state));
  SET(pic, "autoEoi", offsetof(kvm_pic_state, auto_eoi));
  SET(pic, "rotateOnAutoEoi", offsetof(kvm_pic_state, rotate_on_auto_eoi));
  SET(pic, "specialFullyNestedMode", offsetof(kvm_pic_state, special_fully_nested_mode));
  SET(pic, "init4", offsetof(kvm_pic_state, init4));
  SET(pic, "elcr", offsetof(kvm_pic_state, elcr));
  SET(pic, "elcrMask", offsetof(kvm_pic_state, elcr_mask));
  irq.Set("pic", pic);

  Napi::Object ioapic = Napi::Object::New(env);
  SET(ioapic, "baseAddress", offsetof(kvm_ioapic_state, base_address));
  SET(ioapic, "ioregsel", offsetof(kvm_ioapic_state, ioregsel));
  SET(ioapic, "id", offsetof(kvm_ioapic_state, id));
  SET(ioapic, "irr", offsetof(kvm_ioapic_state, irr));
  SET(ioapic, "redirtbl", offsetof(kvm_ioapic_state, redirtbl));
  SET(ioapic, "pins", KVM_IOAPIC_NUM_PINS);
  irq.Set("ioapic", ioapic);
  SET(irq, "chipSize", sizeof(((kvm_irqchip*)nullptr)->chip));

  Napi::Object channel = Napi::Object::New(env);
  SET(channel, "count", offsetof(kvm_pit_channel_state, count));
  SET(channel, "latchedCount", offsetof(kvm_pit_channel_state, latched_count));
  SET(channel, "countLatched", offsetof(kvm_pit_channel_state, count_latched));
  SET(channel, "statusLatched", offsetof(kvm_pit_channel_state, status_latched));
  SET(channel, "status", offsetof(kvm_pit_channel_state, status));
  SET(channel, "readState", offsetof(kvm_pit_channel_state, read_state));
  SET(channel, "writeState", offsetof(kvm_pit_channel_state, write_state));
  SET(channel, "writeLatch", offsetof(kvm_pit_channel_state, write_latch));
  SET(channel, "rwMode", offsetof(kvm_pit_channel_state, rw_mode));
  SET(channel, "mode", offsetof(kvm_pit_channel_state, mode));
  SET(channel, "bcd", offsetof(kvm_pit_channel_state, bcd));
  SET(channel, "gate", offsetof(kvm_pit_channel_state, gate));
  SET(channel, "countLoadTime", offsetof(kvm_pit_channel_state, count_load_time));
  SET(channel, "size", sizeof(kvm_pit_channel_state));
  irq.Set("pitChannel", channel);

  Napi::Object pit = Napi::Object::New(env);
  SET(pit, "channels", offsetof(kvm_pit_state2, channels));
  SET(pit, "flags", offsetof(kvm_pit_state2, flags));
  SET(pit, "size", sizeof(kvm_pit_state2));
  irq.Set("pit", pit);

  Napi::Object route = Napi::Object::New(env);
  SET(route, "gsi", offsetof(kvm_irq_routing_entry, gsi));
  SET(route, "type", offsetof(kvm_irq_routing_entry, type));
  SET(route, "flags", offsetof(kvm_irq_routing_entry, flags));
  SET(route, "irqchip", offsetof(kvm_irq_routing_entry, u.irqchip.irqchip));
  SET(route, "pin", offsetof(kvm_irq_routing_entry, u.irqchip.pin));
  SET(route, "msiAddressLo", offsetof(kvm_irq_routing_entry, u.msi.address_lo));
  SET(route, "msiAddressHi", offsetof(kvm_irq_routing_entry, u.msi.address_hi));
  SET(route, "msiData", offsetof(kvm_irq_routing_entry, u.msi.data));
  SET(route, "msiDevid", offsetof(kvm_irq_routing_entry, u.msi.devid));
  SET(route, "size", sizeof(kvm_irq_routing_entry));
  irq.Set("route", route);

  Napi::Object clock = Napi::Object::New(env);
  SET(clock, "clock", offsetof(kvm_clock_data, clock));
  SET(clock, "flags", offsetof(kvm_clock_data, flags));
  SET(clock, "realtime", offsetof(kvm_clock_data, realtime));
  SET(clock, "hostTsc", offsetof(kvm_clock_data, host_tsc));
  SET(clock, "size", sizeof(kvm_clock_data));
  irq.Set("clock", clock);

  Napi::Object constants = Napi::Object::New(env);
  SET(constants, "IRQ_ROUTING_IRQCHIP", KVM_IRQ_ROUTING_IRQCHIP);
  SET(constants, "IRQ_ROUTING_MSI", KVM_IRQ_ROUTING_MSI);
  SET(constants, "MSI_VALID_DEVID", KVM_MSI_VALID_DEVID);
  SET(constants, "IRQFD_FLAG_DEASSIGN", KVM_IRQFD_FLAG_DEASSIGN);
  SET(constants, "IRQFD_FLAG_RESAMPLE", KVM_IRQFD_FLAG_RESAMPLE);
  SET(constants, "PIT_SPEAKER_DUMMY", KVM_PIT_SPEAKER_DUMMY);
  SET(constants, "IRQCHIP_PIC_MASTER", KVM_IRQCHIP_PIC_MASTER);
  SET(constants, "IRQCHIP_PIC_SLAVE", KVM_IRQCHIP_PIC_SLAVE);
  SET(constants, "IRQCHIP_IOAPIC", KVM_IRQCHIP_IOAPIC);
  irq.Set("constants", constants);
  return irq;
}

}  // namespace memtopo
