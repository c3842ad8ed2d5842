#!/usr/bin/env bash
# Install the Chromium the browser tests drive (tests/browser.py): Debian's package, as root through apt-get.
# Playwright's own browser download needs the internet, so the tests use the system's Chromium instead.
# Does nothing when /usr/bin/chromium (or TRADECORE_CHROMIUM) exists. Without root or apt-get, or when apt-get
# fails (offline), it says so and exits 0: the browser tests then skip, saying why.
set -euo pipefail
CHROMIUM="${TRADECORE_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "browser: $CHROMIUM is there"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ]; then
  echo "browser: no $CHROMIUM; install Chromium as root (apt-get install chromium) or set TRADECORE_CHROMIUM;" \
    "the browser tests skip until then"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; then
  echo "browser: installed $("$CHROMIUM" --version)"
else
  echo "browser: apt-get could not install chromium; the browser tests skip until it is installed"
fi
