# Adds 1 to the u32 at 0x2000 with `lock incl`, as many times as the u32 at 0x2008 says,
# then halts. Several vCPUs run it at once on the same RAM: the total is exact only if
# every increment is atomic across them.
.code16
    movl 0x2008, %ecx
1:  lock incl 0x2000
    decl %ecx
    jnz 1b
    hlt
