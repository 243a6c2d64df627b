import { q35WithBars } from "./q35-bars.mjs";

// An ioeventfd-only commit on the BAR-toggle map: one operation = one `addEventfd` or `delEventfd`
// on the first device's BAR (a virtio queue-notify doorbell being wired or unwired), each its own
// commit. N devices bring N bus-master address spaces and N BARs to the `memory` view: a commit
// that visited every space, or collected every range of the changed view, would grow with N.
export const cases = [
  {
    name: "ioeventfd-commit",
    params: [1, 128, 512],
    setup(n) {
      const { sys, memory, bars } = q35WithBars(n);
      const { bar } = bars[0];
      const doorbell = { id: 1, signal() {} };
      let wired = false;
      return {
        fn: () => {
          if (wired) bar.delEventfd(0x10n, 4, false, 0n, doorbell);
          else bar.addEventfd(0x10n, 4, false, 0n, doorbell);
          wired = !wired;
        },
        extra: { ranges: memory.currentMap.ranges.length, address_spaces: sys.addressSpaces.length },
      };
    },
    report: (us) => ({ us_per_commit: Math.round(us * 100) / 100 }),
  },
];
