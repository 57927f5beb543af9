#!/usr/bin/env bash
# Runs what the Dockerfile builds, without a Docker engine (our build machines have only the client): the build
# context as git has it, `npm ci`, `npm run build` and `npm prune --omit=dev` as in the build stage (the image uses
# Node 22; this runs on the machine's Node), then the runtime stage's environment and compiled command
# as an unprivileged user with empty data and models folders, polled with the HEALTHCHECK command itself.
# It checks what an image build would: production dependencies suffice, the service runs as non-root on empty
# volumes, refuses 0.0.0.0 without an admin key, starts with one, answers, and stops cleanly on SIGTERM.
#   bash scripts/image-smoke.sh            (needs the npm registry; about a minute)
set -euo pipefail
repository=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"
mkdir -p "$work/app" "$work/data" "$work/models"

echo "== build stage: context from git HEAD, npm ci, npm run build, npm prune --omit=dev"
git -C "$repository" archive HEAD | tar -x -C "$work/app"
(cd "$work/app" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
grep -q '^CMD \["node", "dist/cli.js", "serve"\]' "$repository/Dockerfile" || { echo "FAIL: the Dockerfile's CMD is not the compiled server"; exit 1; }

# The runtime user: the image's `node` user where it exists, else nobody.
if [ "$(id -u)" = 0 ]; then
  user=$(id -u node 2>/dev/null || echo 65534)
  chown -R "$user:$user" "$work/data" "$work/models"
  as_user=(setpriv --reuid="$user" --regid="$user" --clear-groups --)
else
  as_user=()
fi
port=$((20000 + RANDOM % 20000))
environment=(env -i PATH="$PATH" HOME="$work" NODE_ENV=production HOST=0.0.0.0 PORT="$port" KB_DATA_DIR="$work/data" KB_MODELS_DIR="$work/models")
healthcheck=$(sed -n 's/^ *CMD \(node -e .*\)$/\1/p' "$repository/Dockerfile")
[ -n "$healthcheck" ] || { echo "no HEALTHCHECK command found in the Dockerfile"; exit 1; }
cd "$work/app"

echo "== runtime stage without an admin key: must refuse to listen on 0.0.0.0"
if "${as_user[@]}" "${environment[@]}" node dist/cli.js serve 2>"$work/refused.log" >/dev/null; then
  echo "FAIL: started on 0.0.0.0 without an admin key"; exit 1
fi
grep -q "refusing to listen on 0.0.0.0 without an admin key" "$work/refused.log" || { cat "$work/refused.log"; exit 1; }
echo "refused, as it should: $(tail -n 1 "$work/refused.log")"

echo "== create an admin key in the data volume, start, wait for the health check"
key=$("${as_user[@]}" "${environment[@]}" node dist/cli.js keys create --scope admin --label smoke | grep -o 'kb_[A-Za-z0-9_-]*' | head -n 1)
[ -n "$key" ] || { echo "FAIL: no key printed"; exit 1; }
# The image's CMD: it serves the data volume as it is (no demo documents unless asked for with `demo`).
"${as_user[@]}" "${environment[@]}" node dist/cli.js serve >"$work/server.log" 2>&1 &
server=$!
for attempt in $(seq 1 120); do
  if "${environment[@]}" bash -c "$healthcheck"; then healthy=1; break; fi
  sleep 1
done
[ "${healthy:-}" = 1 ] || { echo "FAIL: the health check never passed"; cat "$work/server.log"; exit 1; }
echo "healthy after about ${attempt} s (running as uid $(ps -o uid= -p "$server" | tr -d ' '))"

status=$(curl -s -o "$work/answer.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/ask" -H "authorization: Bearer $key" -H 'content-type: application/json' -d '{"question":"How long can a VPN session last?"}')
[ "$status" = 200 ] || { echo "FAIL: /v1/ask answered $status"; cat "$work/answer.json"; exit 1; }
grep -q '"answerable":false' "$work/answer.json" || { echo "FAIL: an empty data volume answered from documents (demo data indexed unasked?)"; cat "$work/answer.json"; exit 1; }
echo "ask on the empty volume: 200, not answerable: $(head -c 160 "$work/answer.json")…"
anonymous=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/search" -H 'content-type: application/json' -d '{"query":"VPN"}')
[ "$anonymous" = 401 ] || { echo "FAIL: /v1/search without a key answered $anonymous"; exit 1; }
echo "search without a key: 401"

kill -TERM "$server"
wait "$server" && code=0 || code=$?
[ "$code" = 0 ] || { echo "FAIL: exit code $code after SIGTERM"; cat "$work/server.log"; exit 1; }
echo "stopped cleanly on SIGTERM; data volume holds: $(ls "$work/data" | tr '\n' ' ')"
echo "image smoke test: passed"
