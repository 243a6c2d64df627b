# A 64 KiB "BIOS" for QEMU's -M pc that copies every fw_cfg file out where the host can read
# it (dump-fw-cfg.sh): it programs the PIIX4 PM and SMBus bases as SeaBIOS does before it
# loads the ACPI tables (0x600, 0x700), then reads the file directory (key 0x19) and keys
# 0x20-0x3f by fw_cfg DMA, 128 KiB each, to 0x100000 + 128 KiB * (key - 0x1f), and prints
# "!" on the debug port. Real mode, port I/O only.
.code16
.text
start:
  cli
  xorw %ax,%ax
  movw %ax,%ds
  # as SeaBIOS's piix4_pm_setup: PMBA=0x601, PMREGMISC=1, SMBBA=0x701, SMBHSTCFG=9 (00:01.3)
  movw $0xcf8,%dx
  movl $0x80000b40,%eax
  outl %eax,%dx
  movw $0xcfc,%dx
  movl $0x601,%eax
  outl %eax,%dx
  movw $0xcf8,%dx
  movl $0x80000b80,%eax
  outl %eax,%dx
  movw $0xcfc,%dx
  movb $1,%al
  outb %al,%dx
  movw $0xcf8,%dx
  movl $0x80000b90,%eax
  outl %eax,%dx
  movw $0xcfc,%dx
  movl $0x701,%eax
  outl %eax,%dx
  movw $0xcf8,%dx
  movl $0x80000bd0,%eax
  outl %eax,%dx
  movw $0xcfe,%dx
  movb $9,%al
  outb %al,%dx
  movw $0x19,%bx
  movl $0x100000,%edi
1:
  movzwl %bx,%eax
  shll $16,%eax
  orl $0x0a,%eax
  bswapl %eax
  movl %eax,0x1000
  movl $0x20000,%eax
  bswapl %eax
  movl %eax,0x1004
  movl $0,0x1008
  movl %edi,%eax
  bswapl %eax
  movl %eax,0x100c
  movw $0x518,%dx
  movl $0x1000,%eax
  bswapl %eax
  outl %eax,%dx
  addl $0x20000,%edi
  cmpw $0x19,%bx
  jne 2f
  movw $0x1f,%bx
2: incw %bx
  cmpw $0x40,%bx
  jb 1b
  movb $0x21,%al
  movw $0x402,%dx
  outb %al,%dx
3: hlt
  jmp 3b
.org 0xfff0
  ljmp $0xf000,$start
.org 0x10000
