#!/usr/bin/env bash
# Packs libs/cache with `npm pack` and installs the tarball, with packages from the npm registry, into
# fresh Nest apps made the way `nest new` makes them (test/pack/nest-app.sh writes them):
#
#   NestJS 11, CommonJS, Jest    NestJS 11, ESM, Vitest    NestJS 12, CommonJS, Jest    NestJS 12, ESM, Vitest
#
# Each app type-checks (strict, its tests included) and runs its built code under plain Node: the
# README's quick start, a @CacheRoute on Express and on Fastify over real sockets, and a check that
# npm installed neither optional peer (prom-client, @opentelemetry/api); the NestJS 12 CommonJS app
# also checks every declaration it reaches with skipLibCheck off. Then its test runner runs its unit
# tests (the backend contract suite, nest-cachekit/testing, on the app's own backend) and its e2e
# tests (CacheInterceptor, @Cacheable, @CacheEvict on that backend, on both adapters). A fifth app
# installs the optional peers and the OpenTelemetry SDK and gets a Prometheus scrape and spans through
# nest-cachekit/prometheus and nest-cachekit/otel.
#
# The apps install at the same time into one npm cache, each once; then they build and test one after
# the other. Every step is bounded in time; the seconds of each step, app and of the whole are printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=test/pack/nest-app.sh
source "$root/test/pack/nest-app.sh"
# shellcheck source=test/pack/optional-peers-app.sh
source "$root/test/pack/optional-peers-app.sh"
# The apps' node_modules (about 750 MB in 60 000 files) go to a RAM-backed tmpfs when there is one
# with room: on a busy disk, writing and deleting them took minutes.
tmp_base=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((2 * 1024 * 1024)) ]; then
  tmp_base=/dev/shm
fi
work=$(mktemp -d "$tmp_base/nest-cachekit-pack-XXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS
failures=()
echo "node $(node -v), npm $(npm -v)"

# `bounded <seconds> <command…>`: the command, killed if it runs longer.
bounded() {
  local limit=$1
  shift
  timeout --kill-after=10 "$limit" "$@"
}

# `timed <label> <command…>`: the command, then `[step] <label> <seconds> s` on stderr.
timed() {
  local label=$1 began=$SECONDS status=0
  shift
  "$@" || status=$?
  echo "[step] $label $((SECONDS - began)) s" >&2
  return $status
}

# The node that runs the Jest tests of the NestJS 12 CommonJS app: NestJS 12 is ESM-only, and Jest
# loads ESM from CommonJS (require(esm)) on Node >= 24.9 only. The node on PATH if recent enough,
# else PACK_SMOKE_NODE24 (a path to a node binary), else none: those tests are skipped, saying so.
node_at_least_24_9() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 24 || (a === 24 && b >= 9) ? 0 : 1)'; }
jest_node=''
if node_at_least_24_9 "$(command -v node)"; then
  jest_node=$(command -v node)
elif [ -n "${PACK_SMOKE_NODE24:-}" ] && node_at_least_24_9 "$PACK_SMOKE_NODE24"; then
  jest_node=$PACK_SMOKE_NODE24
fi
[ -n "$jest_node" ] && echo "Jest on NestJS 12 runs on node $("$jest_node" -v)"

npm run --prefix "$root" build:lib >/dev/null || exit 1
tarball=$(cd "$root/libs/cache" && npm pack --silent --pack-destination "$work") || exit 1
echo "packed $tarball: $(tar tzf "$work/$tarball" | wc -l) files"
shipped_sources=$(tar tzf "$work/$tarball" | grep -E '\.spec\.|/test/|\.ts$' | grep -v '\.d\.ts$')
if [ -n "$shipped_sources" ]; then
  echo "the tarball ships tests or sources:"; echo "$shipped_sources" | head; exit 1
fi

nest_apps=(nest11-cjs-jest nest11-esm-vitest nest12-cjs-jest nest12-esm-vitest)
for name in "${nest_apps[@]}"; do
  IFS=- read -r nest module runner <<<"${name#nest}"
  write_nest_app "$work/$name" "$nest" "$module" "$runner" "$work/$tarball"
done
write_observability_app "$work/optional-peers" "$work/$tarball"

# ---------------------------------------------------------------------------------------------------
# Installs, all at once: each app once, one npm cache.
install_began=$SECONDS
pids=()
for name in "${nest_apps[@]}" optional-peers; do
  (cd "$work/$name" && timed install bounded 420 npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error) >"$work/$name.log" 2>&1 &
  pids+=($!)
done
installed=()
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then installed+=(1); else installed+=(0); fi
done
echo "installs: $((SECONDS - install_began)) s for $((${#nest_apps[@]} + 1)) apps"

# `check_nest_app <name> <nest major> <runner>`: builds, runs and tests an installed Nest app, in its
# directory; stops at the first failure.
check_nest_app() {
  local name=$1 nest=$2 runner=$3
  timed build bounded 180 npx tsc -p tsconfig.json || return 1
  timed run bounded 60 node dist/src/main.js | tee main.out || return 1
  local expected='RESULT quickstart=12,undefined,0 express=200,MISS,HIT,loads=1 fastify=200,MISS,HIT,loads=1 absent=prom-client,@opentelemetry/api'
  [ "$(cat main.out)" = "$expected" ] || { echo "dist/src/main.js printed: $(cat main.out); expected: $expected"; return 1; }
  [ "$name" = nest12-cjs-jest ] && { timed libcheck bounded 180 npx tsc -p tsconfig.libcheck.json || return 1; }
  if [ "$nest/$runner" = 12/jest ] && [ -z "$jest_node" ]; then
    echo "[skipped] Jest tests: they need Node >= 24.9 (set PACK_SMOKE_NODE24 to such a node binary)" >&2
    return 0
  fi
  [ "$nest/$runner" = 12/jest ] && PATH="$(dirname "$jest_node"):$PATH"
  timed unit bounded 180 npm test && timed e2e bounded 180 npm run test:e2e
}

for i in "${!nest_apps[@]}"; do
  name=${nest_apps[$i]}
  IFS=- read -r nest module runner <<<"${name#nest}"
  log="$work/$name.log"
  began=$SECONDS
  if [ "${installed[$i]}" != 1 ] || ! (cd "$work/$name" && check_nest_app "$name" "$nest" "$runner") >>"$log" 2>&1; then
    echo "!! $name failed; the end of its log:"
    tail -40 "$log"
    failures+=("$name")
    continue
  fi
  versions=$(cd "$work/$name" && node -p "['@nestjs/core', '@nestjs/platform-express', '@nestjs/platform-fastify', 'typescript', '$runner'].map((p) => p.replace('@nestjs/', '') + ' ' + require('./node_modules/' + p + '/package.json').version).join(', ')")
  tested='unit + e2e tests passed'
  grep -q '^\[skipped\]' "$log" && tested=$(grep -h '^\[skipped\]' "$log" | cut -d' ' -f2-)
  echo "$name ($versions): built, ran on express and fastify; $tested"
  echo "  $((SECONDS - began)) s after install: $(grep -h '^\[step\]' "$log" | cut -d' ' -f2- | paste -sd, | sed 's/,/, /g')"
done

# ---------------------------------------------------------------------------------------------------
# The optional peers installed: metrics and spans through the optional subpaths.
began=$SECONDS
expected='RESULT hits=1 timedGets=2 spans=cache.set,cache.get:true,cache.get:false,cache.load,cache.getOrSet:false'
out=$(cd "$work/optional-peers" && [ "${installed[${#nest_apps[@]}]}" = 1 ] && bounded 120 npx tsc -p . >>"$work/optional-peers.log" 2>&1 && bounded 60 node dist/main.js 2>>"$work/optional-peers.log")
if [ "$out" = "$expected" ]; then
  echo "optional-peers (prom-client, OpenTelemetry SDK): metrics scraped and spans exported through nest-cachekit/prometheus and nest-cachekit/otel ($((SECONDS - began)) s after install)"
else
  echo "!! optional-peers printed: $out; expected: $expected; the end of its log:"
  tail -40 "$work/optional-peers.log"
  failures+=(optional-peers)
fi

rm -rf "$work"
echo "packed-library smoke: $((SECONDS - started)) s wall time on node $(node -v) (apps in $tmp_base)"
if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; exit 1; fi
