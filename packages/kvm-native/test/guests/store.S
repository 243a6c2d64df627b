# Guest hooks of the KvmBackend conformance suite: 64-bit long mode, identity-mapped
# first 4 GiB. The host sets rax (value), rbx (guest-physical address), rdx (port)
# and rip to one entry; each does a single store or `out`, then hlt. Entry n is at
# 16 * n: store of 1, 2, 4, 8 bytes (n = 0-3), out of 1, 2, 4 bytes (n = 4-6).
.code64
        .balign 16
store1: movb %al, (%rbx)
        hlt
        .balign 16
store2: movw %ax, (%rbx)
        hlt
        .balign 16
store4: movl %eax, (%rbx)
        hlt
        .balign 16
store8: movq %rax, (%rbx)
        hlt
        .balign 16
out1:   outb %al, %dx
        hlt
        .balign 16
out2:   outw %ax, %dx
        hlt
        .balign 16
out4:   outl %eax, %dx
        hlt
