#!/usr/bin/env bash
# kvm-native's test suite inside the nested-KVM guest (run.sh), for CI on machines without /dev/kvm, where
# the real-guest tests otherwise skip. Its last line is "nested-kvm: N passed, N failed".
# Exit: 0 all passed, 1 something failed or timed out, 77 nested KVM is impossible here (nothing was run).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pkg=$root/packages/kvm-native
report=$pkg/test-results.json

# vitest.shared.ts writes the JSON report to the package's test-results.json, which scripts/run-tests.mjs
# sums for the host run: keep the host's report aside and put it back, so the two runs are counted apart.
saved=$(mktemp)
had_report=0
if [ -f "$report" ]; then cp "$report" "$saved" && had_report=1; fi
rm -f "$report"
restore() {
  if [ "$had_report" -eq 1 ]; then cp "$saved" "$report"; else rm -f "$report"; fi
  rm -f "$saved"
}

# pack.test.ts is left out: it installs the packed tarballs from the npm registry, and the guest has no
# network. It runs in the host's test run (where only its final guest step skips).
"$root/scripts/nested-kvm/run.sh" --timeout "${NESTED_KVM_TIMEOUT:-2400}" --cwd "$pkg" -- \
  npx vitest run --exclude test/pack.test.ts
rc=$?
if [ "$rc" -eq 77 ]; then
  restore
  echo "nested-kvm: not run: nested KVM is unavailable on this machine"
  exit 77
fi

# Count from the report, as scripts/run-tests.mjs does. Every test must have run: a skip here means the
# guest tests did not see /dev/kvm, which is the one thing this run exists to check.
counts=$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const loadFailures = r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
  console.log(r.numPassedTests, r.numFailedTests + loadFailures + r.numPendingTests + r.numTodoTests);
' "$report" 2>/dev/null) || counts="0 1"
restore
read -r passed failed <<<"$counts"
# vitest can fail a file without failing a test in it (an empty describe, a hook that throws): a run that
# exited non-zero counts one failure at least, so its summary line never reads as green.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "nested-kvm: $passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
