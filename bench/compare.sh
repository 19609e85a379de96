#!/usr/bin/env bash
# End-to-end throughput of mq's adapters against rumqttc, on a Mosquitto of our own.
#
#   bash bench/compare.sh
#
# Starts Mosquitto on a free loopback port (config in a temp dir), builds the
# clients' throughput programs in release, then for every row (QoS 0/1/2 x
# payload 20 B / 1 KiB x 1 / 10 workers) runs every client RUNS times,
# round-robin (run r goes round the list starting with its r-th client, so the
# first place rotates), measuring each process's user+sys CPU seconds (bash
# `time`) and peak RSS (GNU time). Prints a markdown table of medians, with
# the p25-p75 spread of msg/s and each client's ratios against rumqttc.
#
# The clients (all take the same flags and print the same last line,
# `RESULT received=<n> expected=<n> publish_rate=<msg/s> e2e_rate=<msg/s>`):
#   mq-tokio      mq-tokio's `throughput` example (current-thread runtime)
#   mq-smol       mq-smol's `smol_throughput --runtime smol`
#   mq-async-std  mq-smol's `smol_throughput --runtime async-std`
#   mq-blocking   mq-blocking's `blocking_throughput`
#   rumqttc       bench/rumqttc-throughput (rumqttc 0.25)
#   rumqttc-blocking  the same program on rumqttc's blocking `Client`
#                 (`--runtime blocking`): not a peer in the ratios, but the
#                 like-for-like reference for mq-blocking (same threads)
#   gomq          the Go library mq's own throughput program,
#                 ../shared/peers/gomq-throughput (gomq-throughput-v311 for
#                 VERSION=4); its flags and report differ, see run()
# An mq client's name may end in +memory or +file: its publishing client then
# keeps its session in a session store (`--store memory`, or `--store
# $STORE_DIR`: a FileStore in a fresh subdirectory of STORE_DIR per run), e.g.
# CLIENTS="mq-tokio mq-tokio+memory mq-tokio+file rumqttc".
# A client whose program does not build is left out with a warning (also in
# the table's footnote); the run goes on with the others.
#
# Environment: CLIENTS (a subset, in order, e.g. "mq-tokio rumqttc"; default
# all six), RUNS (default 7), COUNT (default 20000; QoS 2 uses COUNT2,
# default COUNT), VERSION (MQTT 4 or 5, default 5), extra flags for one client:
# MQ_ARGS (mq-tokio, e.g. "--runtime multi"), SMOL_ARGS (both mq-smol
# clients), BLOCKING_ARGS, RUMQTTC_ARGS, GOMQ_ARGS; STORE_DIR (where the +file
# clients' stores go, default a directory in the run's temp dir, which must be
# on a real disk for the fsyncs to mean anything); PEERS (the ../shared/peers
# directory, default ../shared/peers beside the repository); ROWS (a subset such as
# "1:1024:10 2:20:1", QOS:SIZE:WORKERS), OUT (also write the table there),
# PRIO (a nice level for the broker and all clients alike, e.g. -5 as root,
# to shield the runs from other work on the machine), NO_BUILD=1 (use the
# binaries already in the target directory, e.g. to run the other MQTT
# version on exactly the same programs while the tree moves), AWAKE=1 (keep
# every core busy with a nice-19 spin loop for the whole run; see below),
# CARGO_TARGET_DIR.
#
# Columns: msg/s is end to end (first publish to last arrival); CPU s is the
# client process's user+sys time; sleeps/msg its voluntary context switches
# (GNU time %w, all threads) per message, i.e. how often a thread of it went
# to sleep and had to be woken; peak RSS is GNU time's %M. "per-run ratio" pairs each run
# with a peer's run of the same round and gives the median of those ratios,
# which holds up better when the machine changes pace in the middle of a row.
# "vs best peer" takes, per column, the peer that is hardest to beat: the
# lower of the per-run msg/s ratios against rumqttc and gomq, the higher of
# the CPU ratios, and the client's peak RSS over the lower of the peers'.
#
# Idle cores: on the 2-vCPU virtual machines here, a thread woken on an idle
# core costs tens of microseconds (mostly system time), so rows with one
# message in flight (QoS 1/2, one worker) run about 4x slower and burn 3-4x
# the CPU on a quiet machine than on a busy one, and flip between the two modes
# from one minute to the next, for every client alike. AWAKE=1 runs a spin
# loop at nice 19 on every core to keep the cores out of idle: in one 5.0 run
# on 2026-11-25 it did not keep those rows in the fast mode, and it took CPU time
# from the clients that spread their work over more threads (mq-smol,
# mq-blocking), so the tables in docs/PERFORMANCE.md are made without it.
# With one message in flight, read the per-run ratios, not single medians.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
COUNT=${COUNT:-20000}
COUNT2=${COUNT2:-$COUNT}
VERSION=${VERSION:-5}
MQ_ARGS=${MQ_ARGS:-}
SMOL_ARGS=${SMOL_ARGS:-}
BLOCKING_ARGS=${BLOCKING_ARGS:-}
RUMQTTC_ARGS=${RUMQTTC_ARGS:-}
GOMQ_ARGS=${GOMQ_ARGS:-}
STORE_DIR=${STORE_DIR:-} # set after the temp dir is made, if empty
PEERS=${PEERS:-$(cd .. && pwd)/shared/peers}
CLIENTS=${CLIENTS:-"mq-tokio mq-smol mq-async-std mq-blocking rumqttc gomq"}
PRIO=${PRIO:-}
NICE=()
if [ -n "$PRIO" ]; then NICE=(nice -n "$PRIO"); fi
ROWS=${ROWS:-"0:20:1 0:20:10 0:1024:1 0:1024:10 1:20:1 1:20:10 1:1024:1 1:1024:10 2:20:1 2:20:10 2:1024:1 2:1024:10"}
target=${CARGO_TARGET_DIR:-target}
# The mq programs are built without their default `tls` feature, as the
# rumqttc program is built without rumqttc's: plain TCP to a local broker
# needs no TLS stack, and a linked one costs about 1 MiB of peak RSS (the
# pages of the larger binary that are mapped and touched), not work.
NO_TLS=--no-default-features

# client NAME -> sets BUILD (cargo arguments), BIN and EXTRA (flags) for it.
client() {
    local store=
    case $1 in
    mq-*+memory) store="--store memory" ;;
    mq-*+file) store="--store $STORE_DIR" ;;
    *+*)
        echo "unknown client $1 (only mq clients take +memory or +file)" >&2
        return 1 ;;
    esac
    case ${1%+*} in
    mq-tokio)
        BUILD="-p mq-tokio $NO_TLS --example throughput" BIN="$target/release/examples/throughput" EXTRA=$MQ_ARGS ;;
    mq-smol)
        BUILD="-p mq-smol $NO_TLS --features smol,async-std --example smol_throughput" BIN="$target/release/examples/smol_throughput"
        EXTRA="--runtime smol $SMOL_ARGS" ;;
    mq-async-std)
        BUILD="-p mq-smol $NO_TLS --features smol,async-std --example smol_throughput" BIN="$target/release/examples/smol_throughput"
        EXTRA="--runtime async-std $SMOL_ARGS" ;;
    mq-blocking)
        BUILD="-p mq-blocking $NO_TLS --example blocking_throughput"
        BIN="$target/release/examples/blocking_throughput" EXTRA=$BLOCKING_ARGS ;;
    rumqttc)
        BUILD="-p rumqttc-throughput" BIN="$target/release/rumqttc-throughput" EXTRA=$RUMQTTC_ARGS ;;
    rumqttc-blocking)
        BUILD="-p rumqttc-throughput" BIN="$target/release/rumqttc-throughput" EXTRA="--runtime blocking" ;;
    gomq)
        BUILD= BIN="$PEERS/gomq-throughput" EXTRA=$GOMQ_ARGS
        if [ "$VERSION" = 4 ]; then BIN="$PEERS/gomq-throughput-v311"; fi ;;
    *)
        echo "unknown client $1 (known: mq-tokio mq-smol mq-async-std mq-blocking rumqttc rumqttc-blocking gomq)" >&2
        return 1 ;;
    esac
    EXTRA="$EXTRA $store"
}
for c in $CLIENTS; do client "$c"; done

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
[ -n "$STORE_DIR" ] || STORE_DIR=$tmp/store
broker_pid=
cleanup() {
    local p
    for p in "${spinners[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "$broker_pid" ]; then
        kill "$broker_pid" 2>/dev/null || true
        wait "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
spinners=()
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

[ "${NO_BUILD:-}" = 1 ] || echo "building (release) ..." >&2
active=() skipped=() built=" "
for c in $CLIENTS; do
    client "$c"
    if [ "${NO_BUILD:-}" = 1 ] || [ -z "$BUILD" ]; then
        if [ -x "$BIN" ]; then active+=("$c"); else skipped+=("$c"); echo "WARNING: no $BIN; leaving $c out" >&2; fi
        continue
    fi
    # shellcheck disable=SC2086
    if [[ "$built" == *" $BUILD "* ]] || cargo build --release --quiet $BUILD; then
        built="$built$BUILD "
        active+=("$c")
    else
        echo "WARNING: $c does not build (cargo build --release $BUILD); leaving it out" >&2
        skipped+=("$c")
    fi
done
[ ${#active[@]} -gt 0 ] || { echo "no client builds" >&2; exit 1; }
N=${#active[@]}

start_broker
echo "mosquitto $("$MOSQUITTO" -h 2>/dev/null | head -1 | awk '{print $3}') on 127.0.0.1:$PORT (pid $broker_pid)" >&2

# run CLIENT QOS SIZE WORKERS COUNT -> appends "e2e cpu rss_kib sleeps" (e2e "FAIL"
# if the run failed) to $tmp/CLIENT-ROW, one line per round.
run() {
    local name=$1 qos=$2 size=$3 workers=$4 count=$5 status rate cpu rss vcs user sys
    client "$name"
    status=0
    # GNU time gives the peak RSS (and CPU, but only to 10 ms); bash's `time`
    # around it gives the same user+sys CPU to the millisecond (it counts the
    # client, which GNU time waits for, plus GNU time's own ~1 ms).
    local TIMEFORMAT='%3U %3S'
    local args
    if [ "$name" = gomq ]; then
        # The Go program: single-dash flags, no version flag (one binary per version).
        args=(-server "tcp://127.0.0.1:$PORT" -qos "$qos" -size "$size" -workers "$workers"
            -count "$count" -topic "bench/gomq")
    else
        args=(--server "mqtt://127.0.0.1:$PORT" --qos "$qos" --size "$size" --workers "$workers"
            --count "$count" --version "$VERSION" --timeout 120)
    fi
    # shellcheck disable=SC2086
    { time timeout 180 "${NICE[@]}" /usr/bin/time -f "%U %S %M %w" -o "$tmp/time" \
        "$BIN" "${args[@]}" $EXTRA >"$tmp/out" 2>&1; } 2>"$tmp/cpu" || status=$?
    if [ "$name" = gomq ]; then
        # Counted only when every message arrived ("Messages received: N/N").
        if grep -q "Messages received: $count/$count" "$tmp/out"; then
            rate=$(sed -n 's/.*End-to-End Rate: \([0-9.]*\) msgs\/sec.*/\1/p' "$tmp/out" | tail -1)
        else
            rate=
        fi
    else
        rate=$(sed -n 's/^RESULT .*e2e_rate=\([0-9.]*\).*/\1/p' "$tmp/out" | tail -1)
    fi
    read -r _ _ rss vcs < <(tail -1 "$tmp/time") || { rss=0 vcs=0; }
    read -r user sys < <(tail -1 "$tmp/cpu") || { user=0 sys=0; }
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
    if [ "$status" != 0 ] || [ -z "$rate" ]; then
        echo "  $name q$qos ${size}B w$workers: FAILED (exit $status): $(grep -E 'RESULT|FAIL|error' "$tmp/out" | tr '\n' ' ')" >&2
        echo "FAIL $cpu $rss $vcs" >>"$tmp/$name-$qos-$size-$workers"
    else
        echo "  $name q$qos ${size}B w$workers: $rate msg/s, $cpu s CPU, $((rss / 1024)) MiB, $vcs sleeps" >&2
        echo "$rate $cpu $rss $vcs" >>"$tmp/$name-$qos-$size-$workers"
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

# paired FILE RUMQTTC_FILE COLUMN -> the median over rounds of this client's
# value over rumqttc's in the same round (rounds where either failed are skipped).
paired() {
    paste -d' ' "$1" "$2" | awk -v c="$3" -v n="$(awk 'NR == 1 { print NF }' "$1")" '
        $1 != "FAIL" && $(n + 1) != "FAIL" && $(n + c) + 0 > 0 { print $c / $(n + c) }' | sort -g | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "n/a"; exit }
            printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        }'
}

# The 1-minute load average, sampled before the first row and after each row.
load() { cut -d' ' -f1 /proc/loadavg >>"$tmp/load"; }

if [ "${AWAKE:-}" = 1 ]; then
    for _ in $(seq "$(nproc)"); do
        nice -n 19 sh -c 'while :; do :; done' &
        spinners+=($!)
    done
    echo "AWAKE=1: $(nproc) spinners at nice 19 (pids ${spinners[*]})" >&2
fi
started=$(date +%s)
load
for row in $ROWS; do
    IFS=: read -r qos size workers <<<"$row"
    count=$COUNT
    [ "$qos" = 2 ] && count=$COUNT2
    echo "QoS $qos, $size B, $workers workers, $count messages:" >&2
    for r in $(seq "$RUNS"); do
        # Round-robin: run r goes round the list starting with client
        # (r - 1) mod N, so the first place (after a pause) rotates.
        for k in $(seq 0 $((N - 1))); do
            run "${active[$(((r - 1 + k) % N))]}" "$qos" "$size" "$workers" "$count"
        done
    done
    load
done
elapsed=$(($(date +%s) - started))
loads=$(sort -g "$tmp/load" | awk '{ v[NR] = $1 } END { printf "%s-%s", v[1], v[NR] }')

peers=()
for c in "${active[@]}"; do case $c in rumqttc | gomq) peers+=("$c") ;; esac; done
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
{
    head="| row (QoS, payload, workers, messages) | client | msg/s (e2e) | msg/s p25-p75 | CPU s | CPU µs/msg | sleeps/msg | peak RSS MiB |"
    rule="|---|---|---:|---:|---:|---:|---:|---:|"
    for p in "${peers[@]}"; do head="$head per-run ratio to $p (msg/s, CPU) |" rule="$rule---|"; done
    if [ ${#peers[@]} -gt 0 ]; then head="$head vs best peer (msg/s, CPU, RSS) |" rule="$rule---|"; fi
    # With session stores: each store client's per-run msg/s ratio to the
    # same client with the next lighter store (+file to +memory, +memory to
    # none), when that one ran too.
    stores=
    if [[ " ${active[*]} " == *+memory\ * || " ${active[*]} " == *+file\ * ]]; then
        stores=1 head="$head store cost (per-run msg/s ratio: +file to +memory, +memory to none) |" rule="$rule---:|"
    fi
    echo "$head"
    echo "$rule"
    for row in $ROWS; do
        IFS=: read -r qos size workers <<<"$row"
        count=$COUNT
        [ "$qos" = 2 ] && count=$COUNT2
        if [ "$size" = 1024 ]; then label="1 KiB"; else label="$size B"; fi
        label="QoS $qos, $label, $workers w, $count"
        best_rss=
        for p in "${peers[@]}"; do
            r=$(median "$tmp/$p-$qos-$size-$workers" 3)
            if [ -z "$best_rss" ] || awk -v a="$r" -v b="$best_rss" 'BEGIN { exit !(a < b) }'; then best_rss=$r; fi
        done
        for c in "${active[@]}"; do
            f="$tmp/$c-$qos-$size-$workers"
            rate=$(median "$f" 1) cpu=$(median "$f" 2) rss=$(median "$f" 3) vcs=$(median "$f" 4)
            per=$(awk -v c="$cpu" -v n="$count" 'BEGIN { printf "%.1f", c * 1e6 / n }')
            sleeps=$(awk -v c="$vcs" -v n="$count" 'BEGIN { printf "%.2f", c / n }')
            line=$(printf '| %s | %s | %s | %s | %s | %s | %s | %s |' "$label" "$c" "${rate%.*}" "$(spread "$f")" \
                "$(awk -v c="$cpu" 'BEGIN { printf "%.3f", c }')" "$per" "$sleeps" "$(mib "$rss")")
            worst_rate= worst_cpu=
            for p in "${peers[@]}"; do
                if [ "$c" = "$p" ]; then
                    line="$line |"
                    continue
                fi
                pr=$(paired "$f" "$tmp/$p-$qos-$size-$workers" 1) pc=$(paired "$f" "$tmp/$p-$qos-$size-$workers" 2)
                line="$line $pr, $pc |"
                worst_rate=$(awk -v a="$pr" -v b="$worst_rate" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }')
                worst_cpu=$(awk -v a="$pc" -v b="$worst_cpu" 'BEGIN { print (b == "" || a + 0 > b + 0) ? a : b }')
            done
            if [ ${#peers[@]} -gt 0 ]; then
                case " ${peers[*]} " in
                *" $c "*) line="$line |" ;;
                *) line="$line $worst_rate, $worst_cpu, $(awk -v a="$rss" -v b="$best_rss" 'BEGIN { printf "%.2f", (b + 0 > 0) ? a / b : 0 }') |" ;;
                esac
            fi
            if [ -n "$stores" ]; then
                case $c in
                *+file) lighter=${c%+file}+memory ;;
                *+memory) lighter=${c%+memory} ;;
                *) lighter= ;;
                esac
                if [ -n "$lighter" ] && [[ " ${active[*]} " == *" $lighter "* ]]; then
                    line="$line $(paired "$f" "$tmp/$lighter-$qos-$size-$workers" 1) |"
                else
                    line="$line |"
                fi
            fi
            echo "$line"
            label=
        done
    done
    echo
    echo "Medians of $RUNS runs per client and row, round-robin; MQTT $VERSION; Mosquitto on 127.0.0.1;" \
        "${PRIO:+nice $PRIO; }${spinners[*]:+AWAKE=1; }$(nproc) cores; $(date -u +%Y-%m-%d); runs took ${elapsed} s; load average (1 min) $loads."
    if [[ " ${active[*]} " == *+file\ * ]]; then
        echo "File stores under $STORE_DIR ($(df -PT "$STORE_DIR" | awk 'NR == 2 { print $2 " on " $1 }'))."
    fi
    if [ ${#skipped[@]} -gt 0 ]; then
        echo "Left out (did not build, or no binary with NO_BUILD=1): ${skipped[*]}."
    fi
} >"$tmp/table.md"
cat "$tmp/table.md"
if [ -n "${OUT:-}" ]; then cp "$tmp/table.md" "$OUT"; fi
if grep -q FAIL "$tmp/table.md"; then
    echo "some runs failed" >&2
    exit 1
fi
