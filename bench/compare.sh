#!/usr/bin/env bash
# End-to-end throughput, mq-tokio against rumqttc, on a Mosquitto of our own.
#
#   bash bench/compare.sh
#
# Starts Mosquitto on a free loopback port (config in a temp dir), builds
# mq-tokio's `throughput` example and `rumqttc-throughput` in release, then
# for every row (QoS 0/1/2 x payload 20 B / 1 KiB x 1 / 10 workers) runs the
# two clients alternately RUNS times each, measuring each process's user+sys
# CPU seconds and peak RSS (GNU time). Prints a markdown table of medians.
#
# Environment: RUNS (default 9), COUNT (default 20000; QoS 2 uses COUNT2,
# default COUNT), VERSION (MQTT 4 or 5, default 5), MQ_ARGS / RUMQTTC_ARGS
# (extra flags for one side, e.g. "--runtime multi"), ROWS (a subset such as
# "1:1024:10 2:20:1", QOS:SIZE:WORKERS), OUT (also write the table there),
# PRIO (a nice level for the broker and both clients alike, e.g. -5 as root,
# to shield the runs from other work on the machine), CARGO_TARGET_DIR.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-9}
COUNT=${COUNT:-20000}
COUNT2=${COUNT2:-$COUNT}
VERSION=${VERSION:-5}
MQ_ARGS=${MQ_ARGS:-}
RUMQTTC_ARGS=${RUMQTTC_ARGS:-}
PRIO=${PRIO:-}
NICE=()
if [ -n "$PRIO" ]; then NICE=(nice -n "$PRIO"); fi
ROWS=${ROWS:-"0:20:1 0:20:10 0:1024:1 0:1024:10 1:20:1 1:20:10 1:1024:1 1:1024:10 2:20:1 2:20:10 2:1024:1 2:1024:10"}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}
apt_updated=
need_pkg() { # need_pkg COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "installing $2 ..." >&2
        if [ -z "$apt_updated" ]; then
            as_root apt-get update -qq >&2
            apt_updated=1
        fi
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >&2
    fi
}
need_pkg mosquitto mosquitto
need_pkg /usr/bin/time time
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

tmp=$(mktemp -d)
broker_pid=
cleanup() {
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free loopback port: pick at random, skip ones in use, and retry if
# Mosquitto could not bind it after all.
start_broker() {
    local attempt port i
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        port_open "$port" && continue
        {
            echo "listener $port 127.0.0.1"
            echo "allow_anonymous true"
            # Deep queues, so a momentarily slow subscriber is never dropped
            # by the broker (QoS 1 and 2 must lose nothing).
            echo "max_queued_messages 1000000"
            if [ "$(id -u)" = 0 ]; then echo "user root"; fi
        } >"$tmp/mosquitto.conf"
        "${NICE[@]}" "$MOSQUITTO" -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
        broker_pid=$!
        for i in $(seq 50); do
            if port_open "$port"; then
                PORT=$port
                return 0
            fi
            kill -0 "$broker_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
        broker_pid=
    done
    echo "could not start mosquitto; its log:" >&2
    cat "$tmp/mosquitto.log" >&2 || true
    return 1
}

echo "building (release) ..." >&2
cargo build --release --quiet -p mq-tokio --example throughput
cargo build --release --quiet -p rumqttc-throughput
target=${CARGO_TARGET_DIR:-target}
MQ_BIN="$target/release/examples/throughput"
RUMQTTC_BIN="$target/release/rumqttc-throughput"

start_broker
echo "mosquitto $("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}') on 127.0.0.1:$PORT (pid $broker_pid)" >&2

# run CLIENT QOS SIZE WORKERS COUNT -> appends "e2e cpu rss_kib" (or "FAIL") to $tmp/CLIENT-ROW
run() {
    local client=$1 qos=$2 size=$3 workers=$4 count=$5 bin extra status rate cpu rss
    if [ "$client" = mq ]; then bin=$MQ_BIN extra=$MQ_ARGS; else bin=$RUMQTTC_BIN extra=$RUMQTTC_ARGS; fi
    status=0
    # GNU time gives the peak RSS (and CPU, but only to 10 ms); bash's `time`
    # around it gives the same user+sys CPU to the millisecond (it counts the
    # client, which GNU time waits for, plus GNU time's own ~1 ms).
    local TIMEFORMAT='%3U %3S'
    # shellcheck disable=SC2086
    { time timeout 180 "${NICE[@]}" /usr/bin/time -f "%U %S %M" -o "$tmp/time" \
        "$bin" --server "mqtt://127.0.0.1:$PORT" --qos "$qos" --size "$size" \
        --workers "$workers" --count "$count" --version "$VERSION" --timeout 120 $extra \
        >"$tmp/out" 2>&1; } 2>"$tmp/cpu" || status=$?
    rate=$(sed -n 's/^RESULT .*e2e_rate=\([0-9.]*\).*/\1/p' "$tmp/out" | tail -1)
    read -r _ _ rss < <(tail -1 "$tmp/time")
    read -r user sys < <(tail -1 "$tmp/cpu")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
    if [ "$status" != 0 ] || [ -z "$rate" ]; then
        echo "  $client q$qos ${size}B w$workers: FAILED (exit $status): $(grep -E 'RESULT|FAIL|error' "$tmp/out" | tr '\n' ' ')" >&2
        echo "FAIL $cpu $rss" >>"$tmp/$client-$qos-$size-$workers"
    else
        echo "  $client q$qos ${size}B w$workers: $rate msg/s, $cpu s CPU, $((rss / 1024)) MiB" >&2
        echo "$rate $cpu $rss" >>"$tmp/$client-$qos-$size-$workers"
    fi
}

# median FILE COLUMN -> the median of that column (mean of the middle two
# for an even count); "FAIL" if any run of the row failed.
median() {
    if grep -q '^FAIL' "$1"; then
        [ "$2" = 1 ] && { echo FAIL; return; }
    fi
    awk -v c="$2" '$1 != "FAIL" { print $c }' "$1" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "FAIL"; exit }
            if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

# spread FILE -> "p25-p75" of the msg/s column, in thousands (nearest rank).
spread() {
    awk '$1 != "FAIL" { print $1 }' "$1" | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "-"; exit }
            lo = int((NR - 1) * 0.25) + 1; hi = NR - int((NR - 1) * 0.25)
            printf "%.0fk-%.0fk", v[lo] / 1000, v[hi] / 1000
        }'
}

started=$(date +%s)
for row in $ROWS; do
    IFS=: read -r qos size workers <<<"$row"
    count=$COUNT
    [ "$qos" = 2 ] && count=$COUNT2
    echo "QoS $qos, $size B, $workers workers, $count messages:" >&2
    for r in $(seq "$RUNS"); do
        # Alternate which client goes first, so neither always gets a warm broker.
        if [ $((r % 2)) = 1 ]; then
            run mq "$qos" "$size" "$workers" "$count"
            run rumqttc "$qos" "$size" "$workers" "$count"
        else
            run rumqttc "$qos" "$size" "$workers" "$count"
            run mq "$qos" "$size" "$workers" "$count"
        fi
    done
done
elapsed=$(($(date +%s) - started))

{
    echo "| row (QoS, payload, workers, messages) | client | msg/s (e2e) | msg/s p25-p75 | CPU s | peak RSS MiB | ratio mq/rumqttc (msg/s, CPU, RSS) |"
    echo "|---|---|---:|---:|---:|---:|---|"
    for row in $ROWS; do
        IFS=: read -r qos size workers <<<"$row"
        count=$COUNT
        [ "$qos" = 2 ] && count=$COUNT2
        if [ "$size" = 1024 ]; then label="1 KiB"; else label="$size B"; fi
        label="QoS $qos, $label, $workers w, $count"
        f_mq="$tmp/mq-$qos-$size-$workers"
        f_ru="$tmp/rumqttc-$qos-$size-$workers"
        mq_rate=$(median "$f_mq" 1) mq_cpu=$(median "$f_mq" 2) mq_rss=$(median "$f_mq" 3)
        ru_rate=$(median "$f_ru" 1) ru_cpu=$(median "$f_ru" 2) ru_rss=$(median "$f_ru" 3)
        ratio=$(awk -v a="$mq_rate" -v b="$ru_rate" -v c="$mq_cpu" -v d="$ru_cpu" -v e="$mq_rss" -v f="$ru_rss" '
            function r(x, y) { return (x + 0 > 0 && y + 0 > 0) ? sprintf("%.2f", x / y) : "n/a" }
            BEGIN { printf "%s, %s, %s", r(a, b), r(c, d), r(e, f) }')
        mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
        mq_cpu=$(awk -v c="$mq_cpu" 'BEGIN { printf "%.3f", c }')
        ru_cpu=$(awk -v c="$ru_cpu" 'BEGIN { printf "%.3f", c }')
        printf '| %s | mq-tokio | %s | %s | %s | %s | %s |\n' "$label" "${mq_rate%.*}" "$(spread "$f_mq")" "$mq_cpu" "$(mib "$mq_rss")" "$ratio"
        printf '| | rumqttc | %s | %s | %s | %s | |\n' "${ru_rate%.*}" "$(spread "$f_ru")" "$ru_cpu" "$(mib "$ru_rss")"
    done
    echo
    echo "Medians of $RUNS runs per client and row, alternating; MQTT $VERSION; Mosquitto on 127.0.0.1;" \
        "$(nproc) cores; $(date -u +%Y-%m-%d); runs took ${elapsed} s."
} >"$tmp/table.md"
cat "$tmp/table.md"
if [ -n "${OUT:-}" ]; then cp "$tmp/table.md" "$OUT"; fi
if grep -q FAIL "$tmp/table.md"; then
    echo "some runs failed" >&2
    exit 1
fi
