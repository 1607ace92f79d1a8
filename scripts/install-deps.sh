#!/usr/bin/env bash
# Install the Debian packages Airlock needs, only those missing. Safe to re-run.
#   libseccomp-dev, pkg-config             : build (the CSeccomp system-library target)
#   bubblewrap                             : benchmark peer (make bench)
#   util-linux (setpriv), iproute2, procps : tests
set -euo pipefail
need=()
for p in libseccomp-dev pkg-config bubblewrap util-linux procps gcc libc6-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "airlock: installing missing packages: ${need[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "airlock: need root to install ${need[*]} (apt-get install -y ${need[*]})" >&2; exit 2
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
