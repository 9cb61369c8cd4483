#!/bin/sh
# Runs the demo: scripts/demo.sh [COMMAND...]   (default: examples/bin/demo)
#
# With OPENAI_API_KEY or OPENAI_BASE_URL set, the demo talks to that API.
# With neither, this starts the project's OpenAI-compatible test server
# (Tests/server/server.py) on a free loopback port, points the demo at it
# (OPENAI_BASE_URL, a placeholder key, OM_DEMO_LOCAL_SERVER=1 so that the demo
# says so in its first line), and stops the server afterwards.
# The exit status is the demo's.
set -u
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- examples/bin/demo
PYTHON=${PYTHON:-python3}

if [ -n "${OPENAI_API_KEY:-}" ] || [ -n "${OPENAI_BASE_URL:-}" ]; then
    exec "$@" examples/data
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/openaimodel-demo-server.XXXXXX") || exit 1
"$PYTHON" Tests/server/server.py --quiet >"$tmp/out" 2>"$tmp/log" &
server=$!
stop() {
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The server prints "PORT <n>" once it listens (it loads the API description
# first, a second or two).
port=""
tries=0
while [ -z "$port" ]; do
    port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] && break
    if ! kill -0 "$server" 2>/dev/null || [ "$tries" -ge 600 ]; then
        echo "demo: the local test server did not start:" >&2
        cat "$tmp/log" >&2
        exit 1
    fi
    tries=$((tries + 1))
    sleep 0.1
done

OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY="sk-demo-local-server" OM_DEMO_LOCAL_SERVER=1 \
    "$@" examples/data
status=$?
exit $status
