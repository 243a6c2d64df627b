# A 64 KiB real-mode firmware image for timing exits the same way under QEMU (-bios) and under
# raw.c: both map it at 0xF0000 and start at F000:FFF0, so both run these exact bytes.
# Assemble: as --32 --defsym COUNT=<n> --defsym MODE=<0|1> -o bios.o bios.S
#           objcopy -O binary -j .text bios.o bios.bin
# MODE 0: COUNT port writes to 0x80. QEMU -M pc has an I/O region there that ignores writes.
# MODE 1: COUNT byte stores to 0xC0000. QEMU -M pc maps its option ROM there as a read-only
#         memslot, so KVM exits with KVM_EXIT_MMIO and QEMU drops the write in its dispatch;
#         raw.c maps a read-only slot there too, so the kernel side of both exits is the same.
# The guest times its own loop with RDTSC and writes the tick count as 16 hex digits and a newline
# to port 0x402 (QEMU: isa-debugcon into a file; raw.c: stdout), so both VMMs are timed over
# exactly the exits, without process start and teardown.
# Then a write to port 0xF4: QEMU's isa-debug-exit ends the process, raw.c stops its loop.
.code16
.text
start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x7000, %sp
    mov $0xc000, %ax
    mov %ax, %es
    rdtsc
    mov %eax, 0x500
    mov %edx, 0x504
    xor %eax, %eax
    mov $COUNT, %ecx
    test %ecx, %ecx
    jz done
again:
.if MODE == 0
    outb %al, $0x80
.else
    movb %al, %es:0
.endif
    dec %ecx
    jnz again
done:
    rdtsc
    sub 0x500, %eax
    sbb 0x504, %edx
    mov %eax, 0x500
    mov %edx, 0x504
    mov $0x402, %dx
    mov 0x504, %ebx
    call hex32
    mov 0x500, %ebx
    call hex32
    mov $10, %al
    outb %al, %dx
    xor %al, %al
    outb %al, $0xf4
park:
    hlt
    jmp park
# %ebx as 8 hex digits to port %dx, most significant first.
hex32:
    mov $8, %cx
digit:
    rol $4, %ebx
    mov %bl, %al
    and $0xf, %al
    add $'0', %al
    cmp $'9', %al
    jbe emit
    add $7, %al
emit:
    outb %al, %dx
    loop digit
    ret
.org 0xfff0
    ljmp $0xf000, $start
.org 0x10000
