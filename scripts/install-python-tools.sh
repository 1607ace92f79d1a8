#!/usr/bin/env bash
# Independent verifiers for the interoperability tests, from PyPI, in a private venv:
#   securesystemslib (DSSE), spdx-tools (pyspdxtools, SPDX 2.3 validation).
# Output: .build/pytools/bin/{python3,pyspdxtools}. Re-running is cheap.
set -euo pipefail
venv=".build/pytools"
if [ -x "$venv/bin/pyspdxtools" ] && "$venv/bin/python3" -c 'import securesystemslib.dsse' 2>/dev/null; then exit 0; fi
echo "airlock: installing securesystemslib and spdx-tools into $venv (for the interoperability tests)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'securesystemslib[crypto]>=1.0' 'spdx-tools>=0.8'
