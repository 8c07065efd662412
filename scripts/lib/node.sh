# shellcheck shell=bash
# The Node.js anvil runs on: the checkout's node_modules/.bin/node, which `npm ci` installs from the `node`
# devDependency. A machine's own Node.js is usually older (Debian 12 has 18, this machine's image 20) and fails later
# with errors that name something else (undici, --experimental-* flags), so every script checks first.
#
#   project_node_problem ROOT     prints what is wrong (and how to fix it) and returns 1, or returns 0
#   require_project_node ROOT     the same, as a fatal error
#   project_node_version ROOT     v24.x.y

# The major version package.json's "engines" asks for (">=24").
project_node_major() {
  local major
  major=$(sed -n 's/.*"node": *">= *\([0-9][0-9]*\).*/\1/p' "$1/package.json" 2>/dev/null | head -n 1)
  printf '%s' "${major:-24}"
}

project_node_version() { "$1/node_modules/.bin/node" --version 2>/dev/null; }

project_node_problem() {
  local root=$1 major version have=""
  major=$(project_node_major "$root")
  local node="$root/node_modules/.bin/node"
  local fix="It comes from the npm package \`node\` (a devDependency): run \`npm ci\` in $root (or \`bash scripts/setup.sh\`),
then use it for anything you run by hand: export PATH=$root/node_modules/.bin:\$PATH"
  local system
  system=$(node --version 2>/dev/null) || system=""
  system=${system#v}
  if [[ ${system%%.*} =~ ^[0-9]+$ ]] && ((${system%%.*} < major)); then
    have="(The machine's own node, v$system at $(command -v node), is too old for anvil.)"
  fi
  if [[ ! -x $node ]]; then
    printf 'anvil needs Node.js %s from this checkout, and %s is missing.\n%s\n%s\n' "$major" "$node" "$fix" "$have"
    return 1
  fi
  version=$(project_node_version "$root") || version=""
  local got=${version#v}
  got=${got%%.*}
  if [[ ! $got =~ ^[0-9]+$ ]] || ((got < major)); then
    printf 'anvil needs Node.js %s or newer, and %s is %s.\n%s\n' "$major" "$node" "${version:-not runnable}" "$fix"
    return 1
  fi
  return 0
}

require_project_node() {
  local problem
  if ! problem=$(project_node_problem "$1"); then
    printf '%s\n' "$problem" | sed '/^$/d' >&2
    exit 1
  fi
}
