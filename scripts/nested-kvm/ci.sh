#!/usr/bin/env bash
# The tests that need a real /dev/kvm, run inside the nested-KVM guest (run.sh), for CI on machines without
# one, where they otherwise skip: kvm-native's suite, the CLI's demo test (its --backend native runs) and
# `memtopo pc`, @memtopo/pc's SeaBIOS runs (against QEMU 7.2's captures), and @memtopo/migration's snapshots,
# pre-copy and hotplug with real vCPUs.
# Its last line is "nested-kvm: N passed, N failed", summed over the suites.
# Exit: 0 all passed, 1 something failed or timed out, 77 nested KVM is impossible here (nothing was run).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Where KVM works on this machine, the suite that ran before this one already ran these tests for real (its
# probe is the same isAvailable()): running them again would count them twice. NESTED_KVM_FORCE nests anyway.
if [ -z "${NESTED_KVM_FORCE:-}" ] && node --input-type=module -e '
  const { isAvailable } = await import(process.argv[1]);
  process.exit(isAvailable().ok ? 0 : 1);
' "$root/packages/kvm-native/dist/index.js" 2>/dev/null; then
  echo "nested-kvm: not needed: KVM works on this machine, so the suite ran kvm-native's guests and the native demo"
  echo "nested-kvm: 0 passed, 0 failed"
  exit 0
fi

# package directory | vitest arguments | guest vCPUs (run.sh's default when empty).
# Every suite runs in one-vCPU guests. In two-vCPU guests under TCG the guest's kernel wedged: profiler.test.ts
# (300 VM creations under `node --cpu-prof`) in 4 of 5 runs, and the rest of the suite once after 29 of its 32 files.
# No timeout inside the guest fired, and the suite's counts were lost. In one-vCPU guests profiler.test.ts passed
# 3 runs of 3 (6-8 s) and the rest passed whole (264 tests, 383 s). profiler.test.ts gets a guest of its own.
# `.kvm.test.ts` is a vitest file filter: every file so named, each of which skips on a host without /dev/kvm.
# --testTimeout is the bound of a test that sets none: 30 s on a host, a few minutes under TCG.
suites=(
  "packages/kvm-native|test/profiler.test.ts|1"
  "packages/kvm-native|--testTimeout=120000 --exclude test/profiler.test.ts|1"
  "packages/cli|test/demo-cli.test.ts .kvm.test.ts|1"
  "packages/pc|.kvm.test.ts|1"
  "packages/migration|.kvm.test.ts|1"
)

# kvm-native's pack.test.ts installs the packed tarballs from the npm registry, which the guest cannot reach:
# install that project here first (its own tests run too, guest step skipped, and are not counted), then the
# guest runs the file on it, up to running a guest from the installed package.
packed=$(mktemp -d)
trap 'rm -rf "$packed"' EXIT
report=$root/packages/kvm-native/test-results.json
saved=$(mktemp)
had_report=0
if [ -f "$report" ]; then cp "$report" "$saved" && had_report=1; fi
(cd "$root/packages/kvm-native" && MEMTOPO_PACK_KEEP="$packed" npx vitest run test/pack.test.ts >/dev/null 2>&1) ||
  echo "nested-kvm: installing the packed kvm-native on the host failed; pack.test.ts will fail in the guest"
if [ "$had_report" -eq 1 ]; then cp "$saved" "$report"; else rm -f "$report"; fi
rm -f "$saved"
export MEMTOPO_PACKED_PROJECT=$packed/project
# The host's suite built every package just before: the CLI tests' global setup, which builds when not under
# turbo, skips when TURBO_HASH is set (a turbo build replayed inside the guest took minutes under TCG).
export TURBO_HASH=${TURBO_HASH:-built-on-host}

total_passed=0
total_failed=0
for suite in "${suites[@]}"; do
  IFS='|' read -r dir argline smp <<<"$suite"
  pkg=$root/$dir
  read -r -a args <<<"$argline"
  report=$pkg/test-results.json

  # vitest.shared.ts writes the JSON report to the package's test-results.json, which scripts/run-tests.mjs
  # sums for the host run: keep the host's report aside and put it back, so the two runs are counted apart.
  saved=$(mktemp)
  had_report=0
  if [ -f "$report" ]; then cp "$report" "$saved" && had_report=1; fi
  rm -f "$report"

  NESTED_KVM_SMP=${smp:-${NESTED_KVM_SMP:-2}} "$root/scripts/nested-kvm/run.sh" --timeout "${NESTED_KVM_TIMEOUT:-2400}" --env MEMTOPO_PACKED_PROJECT --env TURBO_HASH --cwd "$pkg" \
    -- npx vitest run "${args[@]}"
  rc=$?

  # Count from the report, as scripts/run-tests.mjs does. Every test must have run: a skip here means the
  # tests did not see /dev/kvm, which is the one thing this run exists to check.
  counts="0 1"
  if [ "$rc" -ne 77 ] && [ -f "$report" ]; then
    counts=$(node -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const loadFailures = r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
      console.log(r.numPassedTests, r.numFailedTests + loadFailures + r.numPendingTests + r.numTodoTests);
    ' "$report" 2>/dev/null) || counts="0 1"
  fi
  if [ "$had_report" -eq 1 ]; then cp "$saved" "$report"; else rm -f "$report"; fi
  rm -f "$saved"

  if [ "$rc" -eq 77 ]; then
    echo "nested-kvm: not run: nested KVM is unavailable on this machine"
    exit 77
  fi
  read -r passed failed <<<"$counts"
  # vitest can fail a file without failing a test in it (an empty describe, a hook that throws): a run that
  # exited non-zero counts one failure at least, so the summary line never reads as green.
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  echo "nested-kvm: ${suite%%|*}: $passed passed, $failed failed"
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
done
echo "nested-kvm: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
