// Splits what fw-cfg-dump.S copied into guest RAM (file directory, then 128 KiB per key from
// 0x20) into the fixture files: the ACPI tables up to the end of the last table, the RSDP, the
// loader script up to its last command, the SMBIOS tables and entry point, and the file directory.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const [ramFile, out] = process.argv.slice(2);
const ram = readFileSync(ramFile);
const SLOT = 0x2_0000;
const count = ram.readUInt32BE(0);
const files = new Map();
const list = [];
for (let i = 0; i < count; i++) {
  const entry = ram.subarray(4 + 64 * i, 4 + 64 * (i + 1));
  const size = entry.readUInt32BE(0);
  const key = entry.readUInt16BE(4);
  const name = entry.subarray(8).toString("latin1").replace(/\0.*$/s, "");
  const at = (key - 0x1f) * SLOT;
  files.set(name, ram.subarray(at, at + size));
  list.push({ name, key: `0x${key.toString(16)}`, size });
}
const tables = files.get("etc/acpi/tables");
const rsdp = files.get("etc/acpi/rsdp");
const loader = files.get("etc/table-loader");
const rsdt = rsdp.readUInt32LE(16);
const end = rsdt + tables.readUInt32LE(rsdt + 4);
if (tables.subarray(end).some((b) => b !== 0)) throw new Error("etc/acpi/tables has bytes after the RSDT");
let commands = 0;
while (loader.readUInt32LE(128 * commands) !== 0) commands++;
mkdirSync(out, { recursive: true });
writeFileSync(`${out}/acpi-tables.bin`, tables.subarray(0, end));
writeFileSync(`${out}/acpi-rsdp.bin`, rsdp);
writeFileSync(`${out}/table-loader.bin`, loader.subarray(0, 128 * commands));
writeFileSync(`${out}/smbios-tables.bin`, files.get("etc/smbios/smbios-tables"));
writeFileSync(`${out}/smbios-anchor.bin`, files.get("etc/smbios/smbios-anchor"));
writeFileSync(`${out}/fw-cfg-files.json`, `${JSON.stringify(list, null, 1)}\n`);
console.log(`${out}: tables ${end} of ${tables.length} bytes, ${commands} loader commands, ${count} files`);
