#!/usr/bin/env bash
# The embedded history database's template (pglite-template.tar.gz) for the installed PGlite, built once into
# ~/.cache/anvil keyed by PGlite's version, as the image build does into dist/. Test boot-servers start from it like
# the pods do: a new data directory is unpacked in ~2 s of CPU instead of PGlite's initdb (~8 s and ~1 GB).
# Prints "[pglite-template] cached: PATH" or "[pglite-template] built: PATH" as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node_modules/.bin/node -p "require('./node_modules/@electric-sql/pglite/package.json').version")
cache=${ANVIL_CACHE_DIR:-$HOME/.cache/anvil}
file=$cache/pglite-template-$version.tar.gz
if [[ -s $file ]]; then
  echo "[pglite-template] cached: $file"
  exit 0
fi
mkdir -p "$cache"
NODE_OPTIONS= node_modules/.bin/node --conditions=anvil-source --import tsx shared/src/db/drivers/pglite-template-cli.ts "$file.tmp.$$"
mv "$file.tmp.$$" "$file"
echo "[pglite-template] built: $file"
