# A 64 KiB "BIOS" for QEMU's -M pc (and the board) that runs CPUID for the leaves in its table and
# stores leaf, subleaf, EAX, EBX, ECX, EDX (6 x u32) per entry from 0x1000 on, ending with
# 0xffffffff, then prints "!" on the debug port (dump-cpuid.sh). Real mode.
.code16
.text
start:
  cli
  xorw %ax,%ax
  movw %ax,%ds
  movw $0x1000,%di
  movw $table,%si
1:
  movl %cs:(%si),%eax
  movl %cs:4(%si),%ecx
  cmpl $0xffffffff,%eax
  je 2f
  movl %eax,(%di)
  movl %ecx,4(%di)
  cpuid
  movl %eax,8(%di)
  movl %ebx,12(%di)
  movl %ecx,16(%di)
  movl %edx,20(%di)
  addw $24,%di
  addw $8,%si
  jmp 1b
2:
  movl $0xffffffff,(%di)
  movb $0x21,%al
  movw $0x402,%dx
  outb %al,%dx
3: hlt
  jmp 3b
table:
  .long 0,0, 1,0, 2,0, 4,0, 4,1, 4,2, 4,3, 5,0, 6,0, 7,0, 0xa,0, 0xb,0, 0xb,1, 0xd,0, 0xd,1
  .long 0x40000000,0, 0x40000001,0, 0x40000010,0
  .long 0x80000000,0, 0x80000001,0, 0x80000002,0, 0x80000003,0, 0x80000004,0, 0x80000005,0, 0x80000006,0
  .long 0x80000007,0, 0x80000008,0, 0x8000000a,0
  .long 0xffffffff,0
.org 0xfff0
  ljmp $0xf000,$start
.org 0x10000
