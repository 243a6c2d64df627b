# The workload of memtopo's migration demo and tests: 16-bit real mode, loaded at 0x1000,
# every segment base 0. Each pass writes one dword into every page of [0x10000, 0x80000),
# at an offset and with a value that change with the pass, so each pass dirties every
# page and a lost page shows. After each pass it stores the pass number at 0x500 and
# writes it to port 0xf0 (an exit to user space the host may stop at). After the number
# of passes in the dword at 0x508 it sums every dword of the area (its own checksum),
# stores the sum at 0x504, writes it to port 0xf1 and halts.
# Assemble (as --32, objcopy -O binary), from the repository root, rewriting dirty-guest-bytes.ts:
#   node scripts/assemble-guest.mjs packages/migration/src/workload/dirty-guest.S DIRTY_GUEST_HEX "The dirtying guest"
.code16
start:
    movl 0x500, %ebp            # the passes done (0 at first, kept across a migration)
pass:
    cmpl 0x508, %ebp
    jae checksum
    incl %ebp
    movw $0x1000, %dx           # the segment of 0x10000
1:  movw %dx, %es
    movw %bp, %di
    shlw $2, %di
    andw $0x0ffc, %di           # the dword of this pass in the page
    movzwl %dx, %eax
    shll $16, %eax
    xorl %ebp, %eax             # the value: the page's segment and the pass
    movl %eax, %es:(%di)
    addw $0x100, %dx            # the next page
    cmpw $0x8000, %dx
    jb 1b
    movl %ebp, 0x500
    movl %ebp, %eax
    outl %eax, $0xf0
    jmp pass

checksum:
    xorl %ecx, %ecx
    movw $0x1000, %dx
2:  movw %dx, %es
    xorw %di, %di
3:  addl %es:(%di), %ecx
    addw $4, %di
    jnz 3b                      # 64 KiB of one segment
    addw $0x1000, %dx
    cmpw $0x8000, %dx
    jb 2b
    movl %ecx, 0x504
    movl %ecx, %eax
    outl %eax, $0xf1
    hlt
