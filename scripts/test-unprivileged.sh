#!/usr/bin/env bash
# Run the test binary again as an unprivileged uid (65534): the unit tests and the rootless
# subset must pass for ordinary users too; the root-only integration suite skips itself there.
set -euo pipefail
bin=".build/debug/AirlockPackageTests.xctest"
if [ "$(id -u)" -ne 0 ]; then echo "test-unprivileged: already unprivileged; nothing extra to do"; exit 0; fi
if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$bin"; then
  echo "test-unprivileged: skipped: $PWD is not readable by uid 65534 (clone the repo somewhere world-readable to run it)"
  exit 0
fi
echo "test-unprivileged: running the tests as uid 65534"
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp AIRLOCK_STATE_DIR=/tmp/airlock-test-65534 \
  "$bin" --testing-library swift-testing
