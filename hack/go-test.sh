#!/usr/bin/env bash
# go-test.sh runs `go test -v` with the given arguments, shows its output without the
# === RUN/PAUSE/CONT lines and the passing subtests, keeps the full log in $GO_TEST_LOG (default
# bin/go-test.log), and ends with one line: "go test: N passed, N failed, N skipped". It exits
# with go test's status.
set -uo pipefail

log=${GO_TEST_LOG:-bin/go-test.log}
mkdir -p "$(dirname "${log}")"

go test -v "$@" 2>&1 | tee "${log}" | grep --line-buffered -vE '^\s*=== (RUN|PAUSE|CONT|NAME)|^\s+--- PASS'
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^\s*--- PASS' "${log}")
failed=$(grep -cE '^\s*--- FAIL' "${log}")
skipped=$(grep -cE '^\s*--- SKIP' "${log}")
if [[ ${rc} -ne 0 && ${failed} -eq 0 ]]; then
	echo "go test exited ${rc} without a failing test: a package did not build or a test binary crashed (see above)"
fi
echo "go test: ${passed} passed, ${failed} failed, ${skipped} skipped (full log: ${log})"
exit "${rc}"
