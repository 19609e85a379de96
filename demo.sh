#!/usr/bin/env bash
# The demo: a local Mosquitto, the quick start, and a short throughput run.
#
#   bash demo.sh
#
# Needs Rust (cargo). Installs Mosquitto from the distribution's packages
# when it is missing (apt-get; through sudo when not root), starts it on a
# free loopback port with a config in a temp dir, runs
# `cargo run --release -p mq-tokio --example simple` against it (subscribe,
# publish at QoS 0, 1 and 2, print what arrived) and
# `--example throughput -- --count 10000`, then stops the broker.
set -euo pipefail

cd "$(dirname "$0")"

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "demo.sh: '$*' needs root and sudo is not installed" >&2
        return 1
    fi
}

if ! command -v cargo >/dev/null 2>&1; then
    echo "demo.sh: cargo not found; install Rust from https://rustup.rs first" >&2
    exit 1
fi

MOSQUITTO=$(command -v mosquitto || true)
if [ -z "$MOSQUITTO" ] && [ -x /usr/sbin/mosquitto ]; then MOSQUITTO=/usr/sbin/mosquitto; fi
if [ -z "$MOSQUITTO" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "demo.sh: Mosquitto is missing and there is no apt-get: install mosquitto, then run again" >&2
        exit 1
    fi
    echo "==> installing Mosquitto (apt-get)"
    as_root timeout 600 apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq mosquitto
    MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    if [ ! -x "$MOSQUITTO" ]; then
        echo "demo.sh: apt-get installed mosquitto, but there is no $MOSQUITTO" >&2
        exit 1
    fi
fi

tmp=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
        echo "==> broker stopped"
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Build first, so the broker only runs while there is something to serve.
echo "==> building the examples (release)"
cargo build --release --quiet -p mq-tokio --example simple --example throughput

# A free loopback port: try random ones until Mosquitto listens on one (bounded).
PORT=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_open "$port" && continue
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        echo "persistence false"
        # Running as root, Mosquitto would drop to the 'mosquitto' user.
        if [ "$(id -u)" = 0 ]; then echo "user root"; fi
    } >"$tmp/mosquitto.conf"
    "$MOSQUITTO" -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
    broker_pid=$!
    for _ in $(seq 50); do
        if port_open "$port"; then
            PORT=$port
            break 2
        fi
        kill -0 "$broker_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=
done
if [ -z "$PORT" ]; then
    echo "demo.sh: could not start Mosquitto; its log:" >&2
    cat "$tmp/mosquitto.log" >&2 || true
    exit 1
fi
URL="mqtt://127.0.0.1:$PORT"
echo "==> Mosquitto listening on $URL (pid $broker_pid)"

echo
echo "==> quick start: cargo run --release -p mq-tokio --example simple -- $URL"
timeout 120 cargo run --release --quiet -p mq-tokio --example simple -- "$URL"

echo
echo "==> throughput: 10000 messages of 1 KiB at QoS 1 from 10 workers"
timeout 120 cargo run --release --quiet -p mq-tokio --example throughput -- \
    --server "$URL" --count 10000 --timeout 60

echo
echo "==> demo done"
