#!/usr/bin/env bash
# What `npm test` needs from outside npm, checked before any test runs: Debian's Chromium for the browser tests (a
# test tool's own browser download cannot work on these machines), a CJK font so that Chinese renders in
# screenshots and in the generated scans that the OCR tests read, and Debian's PostgreSQL server for the tests of several API nodes sharing one database (the tests start
# their own throw-away cluster in a temporary folder; nothing is configured system-wide). As root with apt-get it installs what is missing; otherwise it names the one command to run and stops.
# KB_TEST_INSTALL=no never installs (only checks); CHROMIUM_PATH points at another Chromium binary.
set -euo pipefail
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
font=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

missing=()
[ -x "$chromium_path" ] || missing+=(chromium)
[ -f "$font" ] || missing+=(fonts-wqy-microhei)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "${KB_TEST_INSTALL:-yes}" != no ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "npm test: installing the Debian packages the tests need: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -x "$chromium_path" ] || {
    echo "npm test: chromium was installed, but $chromium_path is still missing (CHROMIUM_PATH points elsewhere?)" >&2
    exit 1
  }
  exit 0
fi

# Without them some tests cannot run: stop now, with the command, rather than fail them later.
{
  echo "npm test needs Debian packages that are missing: ${missing[*]} (Chromium for the browser tests, at ${chromium_path};"
  echo "PostgreSQL for the tests of several API nodes; the CJK font to draw the Chinese scans the OCR tests read). Install them with:"
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  echo "or set CHROMIUM_PATH to a Chromium binary."
} >&2
exit 1
