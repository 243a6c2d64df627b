#!/usr/bin/env python3
"""QEMU 7.2's side of the `pam` and `hot-add` benchmarks (q35-pam-hotadd.bench.mjs), paired the
way perf-anchors' commit.py pairs the BAR toggle.

pam:     QEMU -M q35 -S driven through qtest. One toggle = the 13 PAM segments flipped between
         PCI and RAM by two 4-byte writes to the MCH's PAM registers (0x90: PAM0-3, 0x94: PAM4-6;
         each write is one mch_update_pam transaction). Baseline: as many writes of 0 to the MCH's
         dword at 0x98 (same config path; no PAM, SMRAM, SMBASE or PCIEXBAR byte: no transaction). Cost per toggle =
         (t_toggle - t_baseline) / K, pipelined as commit.py does, as the median over alternating
         chunks of K toggles and K baseline writes; QEMU's CPU time likewise.
hot-add: QEMU -M q35 -m 128M,slots=..,maxmem=.. -S driven through QMP. One operation = device_add
         of a pc-dimm whose 128 MiB memory-backend-ram was created beforehand (untimed): its
         plug maps the DIMM into device memory (one commit). Baseline: a query-status round trip.
         The difference still holds the DIMM's realize and ACPI hotplug bookkeeping, so it is an
         upper bound of QEMU's memory-API cost, said so in the output.

Usage: python3 qemu-pam-hotadd.py [--k 200] [--chunks 21] [--reps 3] [--dimms 32] [--accel tcg] [--work DIR]
Prints one JSON object per case and repeat, then a summary line per case.
"""
import argparse, json, os, socket, statistics, subprocess, threading, time

def cfg_addr(bus, dev, fn, reg):
    return 0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xFC)

def cpu_ns(pid):
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total

def listen(path):
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)
    srv.settimeout(60)
    return srv

def qtest_batch(conn, reader, lines):
    """Sends every line from a writer thread, reads every OK; returns wall seconds."""
    data = "".join(l + "\n" for l in lines).encode()
    t0 = time.perf_counter()
    th = threading.Thread(target=conn.sendall, args=(data,))
    th.start()
    n = 0
    while n < len(lines):
        r = reader.readline()
        if r.startswith(b"IRQ"):
            continue
        if not r.startswith(b"OK"):
            raise RuntimeError(f"qtest reply {r!r}")
        n += 1
    t1 = time.perf_counter()
    th.join()
    return t1 - t0

def pam(a, rep):
    qts = os.path.abspath(os.path.join(a.work, "pam-qt.sock"))
    srv = listen(qts)
    qemu = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-accel", a.accel, "-S", "-display", "none",
                             "-nodefaults", "-qtest", f"unix:{qts}", "-qtest-log", "/dev/null"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    reader = conn.makefile("rb")
    pci = ("0x00000000", "0x00000000")          # every segment to PCI
    ram = ("0x33333330", "0x00333333")          # every segment to RAM (PAM0's low nibble is reserved)
    def writes(v, regs=(0x90, 0x94)):
        return [f"outl 0xcf8 0x{cfg_addr(0, 0, 0, regs[0]):x}", f"outl 0xcfc {v[0]}",
                f"outl 0xcf8 0x{cfg_addr(0, 0, 0, regs[1]):x}", f"outl 0xcfc {v[1]}"]
    base = []
    tog = []
    for j in range(a.k):
        # Not the PAM registers themselves: QEMU's pam_update disables and re-enables the current
        # alias even when the value is unchanged, so writing PAM again is a full commit too.
        base += writes(pci, (0x98, 0x98))
        tog += writes(ram if j % 2 == 0 else pci)
    qtest_batch(conn, reader, base[:800])
    qtest_batch(conn, reader, tog[:800])
    # Baseline and toggle batches alternate, so that a load that drifts hits both alike; the
    # cost is the median of the paired differences.
    wall, cpu = [], []
    for _ in range(a.chunks):
        c0 = cpu_ns(qemu.pid); tb = qtest_batch(conn, reader, base); c1 = cpu_ns(qemu.pid)
        tt = qtest_batch(conn, reader, tog); c2 = cpu_ns(qemu.pid)
        wall.append((tt - tb) / a.k * 1e6)
        cpu.append(((c2 - c1) - (c1 - c0)) / a.k / 1e3)
    conn.close(); srv.close(); qemu.terminate(); qemu.wait(10)
    return dict(case="pam", accel=a.accel, rep=rep, k=a.k, chunks=a.chunks, commits_per_toggle=2,
                toggle_us=statistics.median(wall), toggle_cpu_us=statistics.median(cpu))

def qmp(sock, reader, cmd, args=None):
    msg = {"execute": cmd}
    if args is not None:
        msg["arguments"] = args
    sock.sendall((json.dumps(msg) + "\n").encode())
    while True:
        r = json.loads(reader.readline())
        if "return" in r:
            return r["return"]
        if "error" in r:
            raise RuntimeError(f"QMP {cmd}: {r['error']}")

def hot_add(a, rep):
    path = os.path.abspath(os.path.join(a.work, "qmp.sock"))
    srv = listen(path)
    qemu = subprocess.Popen(["qemu-system-x86_64", "-M", "q35", "-accel", a.accel, "-S", "-display", "none",
                             "-nodefaults", "-m", f"128M,slots={a.dimms},maxmem={128 * (a.dimms + 1)}M",
                             "-qmp", f"unix:{path}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn, _ = srv.accept()
    reader = conn.makefile("rb")
    reader.readline()                                   # greeting
    qmp(conn, reader, "qmp_capabilities")
    for i in range(a.dimms):
        qmp(conn, reader, "object-add", {"qom-type": "memory-backend-ram", "id": f"m{i}", "size": 128 << 20})
    status = []
    for _ in range(a.dimms):
        t0 = time.perf_counter(); qmp(conn, reader, "query-status"); status.append(time.perf_counter() - t0)
    adds = []
    c0 = cpu_ns(qemu.pid)
    for i in range(a.dimms):
        t0 = time.perf_counter()
        qmp(conn, reader, "device_add", {"driver": "pc-dimm", "id": f"d{i}", "memdev": f"m{i}"})
        adds.append(time.perf_counter() - t0)
    c1 = cpu_ns(qemu.pid)
    conn.close(); srv.close(); qemu.terminate(); qemu.wait(10)
    add_us = statistics.median(adds) * 1e6
    status_us = statistics.median(status) * 1e6
    return dict(case="hot-add", accel=a.accel, rep=rep, dimms=a.dimms, device_add_us=add_us,
                query_status_us=status_us, hot_add_us=add_us - status_us,
                device_add_cpu_us=(c1 - c0) / a.dimms / 1e3, upper_bound=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--chunks", type=int, default=21)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dimms", type=int, default=32)
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--work", default="work-pam-hotadd")
    ap.add_argument("--cases", default="pam,hot-add")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    runs = {"pam": [], "hot-add": []}
    for rep in range(a.reps):
        for case in a.cases.split(","):
            r = pam(a, rep) if case == "pam" else hot_add(a, rep)
            runs[case].append(r)
            print(json.dumps(r), flush=True)
    for case, key in (("pam", "toggle_us"), ("hot-add", "hot_add_us")):
        if runs[case]:
            xs = [r[key] for r in runs[case]]
            print(json.dumps({"summary": case, "accel": a.accel, key: statistics.median(xs),
                              "min": min(xs), "max": max(xs), "reps": len(xs)}), flush=True)

if __name__ == "__main__":
    main()
