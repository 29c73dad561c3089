#!/usr/bin/env bash
# The portal's browser tests drive Debian's chromium, never a browser build downloaded by a
# test tool. Install it when it is missing (needs root, as apt-get does).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is missing: run 'sudo apt-get install chromium' (the browser tests need it)" >&2
  exit 1
fi
echo "installing chromium" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
