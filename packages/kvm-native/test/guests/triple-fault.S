# An empty IDT (limit 0), then an interrupt: #GP, #DF, then a triple fault, which
# KVM reports as KVM_EXIT_SHUTDOWN.
.code16
    lidt empty_idt + 0x1000      # the guest runs at 0x1000, ds base 0
    int $3
    hlt
empty_idt:
    .word 0
    .long 0
