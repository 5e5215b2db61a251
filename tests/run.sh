#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with Python 3.11:
# installs what the tests need (openssh-server, sudo, jq for the command
# docs/nightly.md shows, patch and git, the oracles `fix` diffs are applied
# with, wg from wireguard-tools, the oracle for public keys derived from
# PrivateKey, Graphviz's dot, which must read `topology --format dot`, and
# node with npm, which run the real Mermaid parser on every Mermaid text)
# via apt-get when missing and running as root (without recommends:
# wireguard-tools would pull in a kernel module); the
# package with its test extras into .venv), then runs ruff, mypy and pytest.
# CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ] || ! command -v sudo >/dev/null 2>&1 \
    || ! command -v jq >/dev/null 2>&1 || ! command -v patch >/dev/null 2>&1 \
    || ! command -v git >/dev/null 2>&1 || ! command -v flock >/dev/null 2>&1 \
    || ! command -v wg >/dev/null 2>&1 || ! command -v dot >/dev/null 2>&1 \
    || ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server openssh-client sudo jq patch \
      git util-linux wireguard-tools graphviz nodejs npm >/dev/null
  else
    echo "tests/run.sh: openssh-server, sudo, jq, patch, git, flock, wireguard-tools," \
      "graphviz, nodejs and npm are needed (run as root to install them)" >&2
  fi
fi

# The real Mermaid parser (tests/mermaid/package-lock.json pins it).
if [ ! -d tests/mermaid/node_modules/mermaid ] || [ ! -d tests/mermaid/node_modules/jsdom ]; then
  npm ci --silent --no-audit --no-fund --prefix tests/mermaid
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test,dev]'

.venv/bin/ruff check awgcheck tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
