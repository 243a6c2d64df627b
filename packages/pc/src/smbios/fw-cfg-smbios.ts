import type { FwCfg } from "../devices/fw-cfg.js";
import { SMBIOS_ANCHOR_FILE, SMBIOS_TABLES_FILE, type SmbiosConfig, smbiosBuild } from "./smbios.js";

/**
 * fw_cfg_build_smbios at machine done: the tables and their entry point as fw_cfg files, which
 * SeaBIOS copies into the F segment (or high memory) and completes with the checksums and the
 * tables' address.
 */
export function fwCfgBuildSmbios(fwCfg: FwCfg, config: SmbiosConfig): void {
  const { tables, anchor } = smbiosBuild(config);
  fwCfg.addFile(SMBIOS_TABLES_FILE, tables);
  fwCfg.addFile(SMBIOS_ANCHOR_FILE, anchor);
}
