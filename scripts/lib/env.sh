# Sourced by the Quick start scripts: makes sure a supported Node.js and the
# project's pinned dependencies are present, installing them on first use.
# Current wrangler needs Node >= 22.12; older system Node gets a private copy
# from the npm registry (the `node` package), kept in .tools/ and put first on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_PIN="24.21.0"

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if ! node_ok; then
  if [ ! -x "$ROOT/.tools/node_modules/.bin/node" ]; then
    echo "System Node $(node --version 2>/dev/null || echo 'missing') is older than wrangler needs (>= 22.12): installing Node $NODE_PIN from the npm registry into .tools/" >&2
    mkdir -p "$ROOT/.tools"
    (cd "$ROOT/.tools" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix . "node@$NODE_PIN" >/dev/null)
  fi
  export PATH="$ROOT/.tools/node_modules/.bin:$PATH"
  node_ok || { echo "could not provide Node >= 22.12 (got $(node --version))" >&2; exit 1; }
fi

# Install the versions pinned in package-lock.json when node_modules is missing or older
# than the lock. `npm install`, not `npm ci`: npm 11 writes lock files without the other
# platforms' optional workerd binaries and then its own `npm ci` refuses them as "out of
# sync"; `npm install` installs exactly the locked versions all the same.
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  echo "Installing dependencies (npm install, versions from package-lock.json)..." >&2
  (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
cd "$ROOT"
