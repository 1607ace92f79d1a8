#!/usr/bin/env bash
# Fetch real OCI seccomp profiles for the import tests, from Debian's archive, without installing
# their packages (and their hundreds of Go dependencies): download the .deb, extract one file.
#   golang-github-docker-docker-dev  -> Docker's profiles/seccomp/default.json
#   golang-github-containers-common  -> /usr/share/containers/seccomp.json (Podman's)
# Output: .build/reference-profiles/{docker-default.json,containers-seccomp.json}. Best effort:
# the tests that need a file say so and skip when it is missing.
set -uo pipefail
out=".build/reference-profiles"
mkdir -p "$out"
fetch() { # package, path inside the package, output name
  [ -s "$out/$3" ] && return 0
  local tmp; tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -qq "$1" >/dev/null 2>&1); then
    [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1
    (cd "$tmp" && apt-get download -qq "$1" >/dev/null 2>&1) || { echo "airlock: could not download $1 (import test will be skipped)" >&2; rm -rf "$tmp"; return 0; }
  fi
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -xO ".$2" > "$out/$3" 2>/dev/null || rm -f "$out/$3"
  rm -rf "$tmp"
}
fetch golang-github-docker-docker-dev /usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json docker-default.json
fetch golang-github-containers-common /usr/share/containers/seccomp.json containers-seccomp.json
ls "$out"
