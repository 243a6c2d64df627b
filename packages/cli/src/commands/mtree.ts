import { printMtree, printMtreeFlat } from "@memtopo/qemu-text";
import { loadMachine } from "memtopo";
import type { CliCommand } from "../context.js";
import { attachMachineKvm } from "../kvm-machine.js";

interface MtreeFlags {
  readonly f?: boolean;
  readonly D?: boolean;
  readonly owner?: boolean;
}

/** `memtopo mtree <machine.json> [-f] [-D] [--owner]`: QEMU's `info mtree` for a machine file. */
export const mtreeCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command("mtree <machine>", "Print a machine file's memory tree as QEMU 7.2's `info mtree` does")
      .option("-f", "Print the flat views (`info mtree -f`)")
      .option("-D", "Also print disabled regions, marked [disabled] (`info mtree -D`)")
      .option("--owner", "Print region owners (`info mtree -o`, best effort)")
      .example("memtopo mtree machine.json -f")
      .action(async (file: string, flags: MtreeFlags) => {
        const machine = loadMachine(await ctx.readText(file));
        const owner = flags.owner === true;
        if (flags.f !== true) {
          const order = machine.mtreeOrder;
          ctx.stdout(printMtree(machine.addressSpaces, { disabled: flags.D === true, owner, order }));
          return;
        }
        // Under KVM, QEMU marks ranges a memslot backs exactly with " KVM" (mock kernel here).
        const kvm = attachMachineKvm(machine);
        ctx.stdout(
          printMtreeFlat(machine.addressSpaces, {
            owner,
            ...(kvm === null
              ? {}
              : {
                  accelHasMemory: (as, start, size) => kvm.hasMemory(as, start, size),
                  accelName: "KVM",
                }),
          }),
        );
      });
  },
};
