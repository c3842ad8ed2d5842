#!/usr/bin/env bash
# Install tradecore, every plugin under plugins/ (each as its own distribution) and the test tools.
# torch is pinned first so pip takes the CPU build and never pulls CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="${PYTHON:-python3} -m pip"
$PIP install --quiet "torch==2.13.0"
args=(-e ".[test]")
for plugin in plugins/*/; do
  # with each plugin's own test extra (pip only warns for a plugin that has none)
  [ -f "$plugin/pyproject.toml" ] && args+=(-e "${plugin%/}[test]")
done
$PIP install --quiet "${args[@]}" "torch==2.13.0"
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
echo "installed: tradecore and $(( ${#args[@]} / 2 - 1 )) plugin distributions from plugins/"
