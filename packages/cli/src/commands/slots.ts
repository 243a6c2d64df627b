import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { cutText } from "@memtopo/region-tree";
import { loadMachine } from "memtopo";
import { type CliCommand, UsageError } from "../context.js";
import { attachMachineKvm } from "../kvm-machine.js";

interface SlotsFlags {
  readonly json?: boolean;
  readonly addressSpaces?: number | string;
}

interface SlotJson {
  gpa: string;
  size: string;
  flags: string[];
  as?: string;
}

/** `memtopo slots <machine.json> [--json]`: the memslots KVM holds once the machine is built. */
export const slotsCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command("slots <machine>", "List the KVM memslots of a machine file (accel kvm), on the mock kernel")
      .option("--json", 'Print [{"gpa","size","flags"}] as in QEMU conformance cases (plus "as" outside space 0)')
      .option(
        "--address-spaces <n>",
        "KVM_CAP_MULTI_ADDRESS_SPACE of the mock kernel: 2 (x86 with SMM) gives KVM-SMRAM its slots (default 1, like the captures' hosts)",
      )
      .example("memtopo slots machine.json --json")
      .action(async (file: string, flags: SlotsFlags) => {
        const count = flags.addressSpaces ?? 1;
        if (count !== 1 && count !== 2) {
          throw new UsageError(`--address-spaces must be 1 or 2, got ${cutText(String(count))}`);
        }
        const machine = loadMachine(await ctx.readText(file));
        const kernel = new MockKvm({ addressSpaces: count });
        const kvm = attachMachineKvm(machine, kernel);
        if (kvm === null) {
          // Either the accelerator is not KVM, or there is no "memory" space for KVM's listener to take.
          const why =
            machine.host.accel === "kvm"
              ? 'has no address space named "memory"'
              : `accel is "${machine.host.accel}", not kvm`;
          ctx.stderr(`memtopo: note: the machine ${why}: no memslots\n`);
        }
        const listeners = kvm === null ? [] : [kvm.memory, ...(kvm.smram === null ? [] : [kvm.smram])];
        const slots = listeners.flatMap((l) =>
          l.slots.map((s) => ({ ...s, as: l.asId === 0 ? "memory" : "KVM-SMRAM", asId: l.asId })),
        );
        const outside = slots.some((s) => s.asId !== 0);
        const rows: SlotJson[] = slots
          .sort((a, b) => a.asId - b.asId || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
          .map((s) => ({
            gpa: `0x${s.start.toString(16)}`,
            size: `0x${s.size.toString(16)}`,
            flags: [
              ...((s.flags & KVM_MEM_READONLY) !== 0 ? ["readonly"] : []),
              ...((s.flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0 ? ["log-dirty-pages"] : []),
            ],
            ...(outside ? { as: s.as } : {}),
          }));
        if (flags.json === true) {
          ctx.stdout(`${JSON.stringify(rows, null, 1)}\n`);
          return;
        }
        const lines = rows.map(
          (r, i) =>
            `${String(slots[i]!.id).padStart(4)}  ${r.gpa.padEnd(18)} ${r.size.padEnd(12)} ${r.flags.join(",")}${outside ? `  ${r.as}` : ""}`,
        );
        ctx.stdout(`slot  gpa                size         flags\n${lines.join("\n")}${lines.length > 0 ? "\n" : ""}`);
      });
  },
};
