# Guest RAM above 4 GiB: 64-bit long mode, page tables set up by the host
# (test/ram-isolation.test.ts) identity-mapping the addresses used here. Stores a
# marker at 6 GiB, copies the dword the host put at 6 GiB + 0x100 down to 0x2000,
# stores a marker in the last dword below 9 GiB (the end of an 8 GiB PC's RAM), hlt.
.code64
        movabs  $0x180000000, %rbx
        movl    $0x11223344, (%rbx)
        movl    0x100(%rbx), %eax
        movl    %eax, 0x2000
        movabs  $0x23ffffffc, %rbx
        movl    $0x55667788, (%rbx)
        hlt
