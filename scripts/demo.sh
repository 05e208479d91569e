#!/usr/bin/env bash
# The demo `make demo` runs on a fresh lab: a 3-host Docker lab, a swarm, a web
# service deployed and scaled, an HTTP answer from one of its tasks, one
# exporter cycle summarised, and a Grafana dashboard rendered to a PNG from a
# real Prometheus scraping the exporter. Everything stays on loopback and the
# lab bridge (198.18.0.0/15).
set -euo pipefail
cd "$(dirname "$0")/.."
FK=${FLEETKIT:-.venv/bin/fleetkit}
INV=inventory/lab
OUT=${DEMO_OUT:-.fleetkit/demo}
HOSTS=${DEMO_HOSTS:-3}
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "lab: $HOSTS hosts with a dockerd each"
$FK lab up --hosts "$HOSTS" --docker
$FK inventory -i $INV --graph

answer() {  # an HTTP answer from one task of web (host-mode ports in the lab)
    $FK swarm status -i $INV > "$OUT/swarm-status.txt"
    endpoint=$(sed -n 's/^web answers on \([^ ]*\).*/\1/p' "$OUT/swarm-status.txt")
    echo "GET http://$endpoint/ -> $(curl -sS --max-time 5 "http://$endpoint/")"
}

step "swarm: bootstrap, deploy web (3 replicas), scale to 12"
$FK run playbooks/bootstrap-swarm.yml -i $INV
$FK run playbooks/deploy.yml -i $INV -e service=web -e replicas=3
$FK run playbooks/scale.yml -i $INV -e service=web -e replicas=12

step "rolling update to v2, then roll back to v1"
v2=$($FK inventory -i $INV --host lab1 | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["lab_image_v2"])')
$FK run playbooks/rolling-update.yml -i $INV -e service=web -e "image=$v2"
answer
$FK run playbooks/rollback.yml -i $INV -e service=web

step "the service, and an HTTP answer from one of its tasks"
answer
cat "$OUT/swarm-status.txt"

step "one exporter cycle"
$FK exporter -i $INV --once > "$OUT/metrics.txt"
awk '/^fleetkit_host_up\{/ {up[$NF+0]++} /^fleetkit_container_running\{/ {c++; r+=$NF}
     /^fleetkit_swarm_service_replicas_(desired|running)/ {print "  " $0}
     END {printf "  hosts up: %d, down: %d; containers running: %d of %d\n", up[1], up[0], r, c}' \
    "$OUT/metrics.txt"
grep -E '^fleetkit_host_(load1|memory_available_bytes)\{' "$OUT/metrics.txt" | sed 's/^/  /'
echo "  (all $(grep -c '^fleetkit_' "$OUT/metrics.txt") samples in $OUT/metrics.txt)"

step "a dashboard rendered from a real Prometheus"
port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
exporter_port=$(port)
prom_port=$(port)
tmp=$(mktemp -d)
cat > "$tmp/prometheus.yml" <<YAML
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: [$(pwd)/prometheus/rules/fleetkit.rules.yml]
scrape_configs:
  - job_name: fleetkit
    static_configs: [{targets: ["127.0.0.1:$exporter_port"]}]
YAML
$FK exporter -i $INV --listen "127.0.0.1:$exporter_port" --interval 2 > "$tmp/exporter.log" 2>&1 &
exporter_pid=$!
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
    --web.listen-address="127.0.0.1:$prom_port" > "$tmp/prometheus.log" 2>&1 &
prom_pid=$!
trap 'kill $exporter_pid $prom_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break; sleep 0.5; done
echo "  exporter on 127.0.0.1:$exporter_port, Prometheus on 127.0.0.1:$prom_port: collecting 40s of samples"
sleep 40
$FK dashboard render grafana/dashboards/fleet-overview.json \
    --prometheus "http://127.0.0.1:$prom_port" --range 2m -o "$OUT/fleet-overview.png"
$FK dashboard render grafana/dashboards/containers-services.json \
    --prometheus "http://127.0.0.1:$prom_port" --range 2m -o "$OUT/containers-services.png" || true
echo
echo "dashboard: $(pwd)/$OUT/fleet-overview.png"
echo "the lab stays up: try '$FK exec all -i $INV -- uptime'; remove it with '$FK lab down'"
