# CPUID leaf 0 from real mode, loaded at 0x1000: the vendor string goes to 0x2000.
.code16
start:
    xor %eax, %eax
    xor %ecx, %ecx
    cpuid
    movl %ebx, 0x2000
    movl %edx, 0x2004
    movl %ecx, 0x2008
    movl %eax, 0x200c
    hlt
