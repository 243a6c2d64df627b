# RDMSR then WRMSR of MSR 0xabcd, which KVM does not know: with user-space MSR exits
# on, each becomes an exit that the handler answers. The value read lands at 0x2000.
.code16
    movl $0xabcd, %ecx
    rdmsr
    movl %eax, 0x2000
    movl %edx, 0x2004
    movl $0x11223344, %eax
    movl $0x55667788, %edx
    wrmsr
    hlt
