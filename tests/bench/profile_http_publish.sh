#!/bin/bash
# One kept-alive HTTP publisher and one curl subscriber against BIN: server CPU
# and context switches per event (perf stat -p), and how many publishes the
# reader thread answered itself. Used for issue 20 (CHANGELOG, HTTP publish).
# usage: tests/bench/profile_http_publish.sh BIN EVENTS [RATE]   (RATE 0: full speed)
B=$1; N=${2:-20000}; RATE=${3:-0}
LG=${LOADGEN:-build/release/tests/bench/ssebridge_bench_loadgen}
rm -f /tmp/hs.log
$B --http_address=127.0.0.1 --http_port=0 --grpc_address=127.0.0.1 --grpc_port=0 --admin_address=127.0.0.1 --admin_port=0 --log_level=info 2>/tmp/hs.log >/dev/null & bp=$!
for i in $(seq 100); do grep -q '"listening"' /tmp/hs.log 2>/dev/null && break; sleep 0.1; done
read port aport < <(grep '"listening"' /tmp/hs.log | head -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["http_port"], d.get("admin_port",0))')
curl -sN "http://127.0.0.1:$port/v1/events?channel=x" > /tmp/hs.sub & cp=$!
sleep 0.5
perf stat -e task-clock,context-switches -p $bp -o /tmp/hs.stat 2>/dev/null & pp=$!
sleep 0.2
ra=""; [ "$RATE" != 0 ] && ra="--rate=$RATE"
$LG pub --mode=http --format=bridge --port=$port --path=/v1/publish --channel=x --conns=1 --events=$N $ra --duration_ms=60000 --drain_ms=2000 > /tmp/hs.pub 2>&1
kill -INT $pp; wait $pp
tc=$(awk '/task-clock/{gsub(",","",$1); print $1}' /tmp/hs.stat); cs=$(awk '/context-switches/{gsub(",","",$1); print $1}' /tmp/hs.stat)
onr=$(curl -s http://127.0.0.1:$aport/metrics | awk '/^ssebridge_http_publishes_on_reader_total/{print $2}')
got=$(grep -c '^data:' /tmp/hs.sub)
python3 -c "print('cpu_us/ev %.1f  cs/ev %.2f  on_reader %s  delivered %s' % ($tc*1000/$N, $cs/$N, '$onr', $got))"
kill $cp; kill $bp; wait $bp 2>/dev/null
