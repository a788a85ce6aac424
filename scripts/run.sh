#!/usr/bin/env bash
# Runs the whole pipeline: dashboard, receiver, engine, client, in the original's order.
#
#   scripts/run.sh                                   synthetic tweets (the default)
#   scripts/run.sh -- --source replay --file F.jsonl arguments after -- go to twitter_client
#   KAFKA=mock scripts/run.sh                        engines in a consumer group on a local test cluster
#   KAFKA=BROKERS ENGINES=N scripts/run.sh           N engines on a given Kafka (docs/scale-out.md)
#
# Each piece can be replaced by another command (for example its Python original) through
# DASHBOARD_CMD, RECEIVER_CMD, ENGINE_CMD, CLIENT_CMD; see README.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
host=${TREND_HOST:-127.0.0.1}
dashboard_port=${DASHBOARD_PORT:-5003}
receiver_port=${RECEIVER_PORT:-7002}
engine_port=${ENGINE_PORT:-8002}
# Prometheus metrics (docs/observability.md): the engine on machida's 5001, the client on 5002,
# the receiver on 5004; the dashboard serves /metrics on its own port (5003). METRICS=0: none.
metrics=${METRICS:-1}
engine_metrics_port=${ENGINE_METRICS_PORT:-5001}
client_metrics_port=${CLIENT_METRICS_PORT:-5002}
receiver_metrics_port=${RECEIVER_METRICS_PORT:-5004}
logs=${LOG_DIR:-$root/logs}
stop_timeout=${STOP_TIMEOUT:-10}

usage() {
  cat <<USAGE
Usage: scripts/run.sh [--no-build] [-- CLIENT_ARGS...]

Starts dashboard_server ($host:$dashboard_port), socket_receiver ($host:$receiver_port),
engine ($host:$engine_port) and twitter_client, each after the previous one listens,
and stops all four on Ctrl-C. Logs go to $logs/<program>.log.

  --no-build      do not run setup and build first (use what is in \$BUILD_DIR)
  -- ARGS...      arguments for twitter_client (default: its synthetic source)

Environment:
  DASHBOARD_CMD, RECEIVER_CMD, ENGINE_CMD, CLIENT_CMD   replace a piece by another command
  ENGINE_ARGS                                           more engine options, e.g. "--window 5m --score trend"
  DASHBOARD_ARGS                                        more dashboard_server options, quoted as in a shell,
                                                        e.g. "--subtitle 'last 5 minutes, trend score' --history 30m"
  DASHBOARD_TOKEN                                       the update token: dashboard_server and socket_receiver
                                                        both read it (needed with a TREND_HOST beyond loopback)
  KAFKA=mock | KAFKA=HOST:PORT,...                      the client produces to Kafka and ENGINES engines
                                                        (3 with mock, else 1) count in one consumer group:
                                                        mock starts a local test cluster (3 brokers)
  ENGINES, KAFKA_TOPIC (tweets), KAFKA_GROUP (trend-engine), KAFKA_PARTITIONS (mock: 12 counting, 6 tweets)
  KAFKA_CONFIG                                          a librdkafka settings file (SASL, TLS, passwords; chmod 600)
                                                        for the engines and the client (--kafka-config)
  DASHBOARD_PORT, RECEIVER_PORT, ENGINE_PORT            ports (defaults 5003, 7002, 8002)
  METRICS (1), ENGINE_METRICS_PORT, CLIENT_METRICS_PORT, RECEIVER_METRICS_PORT
                                                        Prometheus /metrics of our programs (5001, 5002,
                                                        5004; the dashboard's is on its port; with KAFKA the
                                                        engines after the first use 5005 and up); 0: off
  TREND_HOST (127.0.0.1), BUILD_DIR (build/), LOG_DIR (logs/)
USAGE
}

do_build=1
client_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --no-build) do_build=0; shift ;;
    --) shift; client_args=("$@"); break ;;
    *) echo "run.sh: unknown argument '$1' (client arguments go after --)" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf 'run.sh: %s\n' "$*" >&2; }

# Whether something LISTENs on a TCP port, read from /proc/net without connecting: the original
# socket_receiver.py accepts exactly one connection, which a probe would use up.
port_taken() {
  awk -v port="$(printf '%04X' "$1")" 'FNR > 1 { n = split($2, a, ":"); if (a[n] == port && $4 == "0A") found = 1 }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

kafka=${KAFKA:-}
kafka_topic=${KAFKA_TOPIC:-tweets}
kafka_group=${KAFKA_GROUP:-trend-engine}
kafka_partitions=${KAFKA_PARTITIONS:-12}
kafka_config=()
[ -n "${KAFKA_CONFIG:-}" ] && kafka_config=(--kafka-config "$KAFKA_CONFIG")
engines=${ENGINES:-$([ "$kafka" = mock ] && echo 3 || echo 1)}
ports=("dashboard:$dashboard_port" "receiver:$receiver_port")
[ -z "$kafka" ] && ports+=("engine:$engine_port")  # with Kafka the engines listen on no port
for spec in "${ports[@]}"; do
  name=${spec%%:*} port=${spec##*:}
  if port_taken "$port"; then
    say "port $host:$port (for the $name) is already in use; stop what holds it (ss -ltnp 'sport = :$port') or set ${name^^}_PORT"
    exit 1
  fi
done

if [ "$do_build" = 1 ]; then
  "$root/scripts/setup.sh"
  BUILD_DIR=$build "$root/scripts/build.sh" >/dev/null
fi

# ENGINE_ARGS and DASHBOARD_ARGS split as a shell would ("--subtitle 'last 5 minutes'" is two
# words), by xargs, which reads quotes and runs nothing that the text holds.
split_args() {  # split_args ARRAY VARIABLE: the words of $VARIABLE into ARRAY, or exit 2
  local -n into=$1
  local text=${!2:-}
  into=()
  [ -n "$text" ] || return 0
  if ! xargs printf '%s\0' <<<"$text" >/dev/null 2>&1; then
    say "$2 cannot be split into words (a quote not closed?): $text"
    exit 2
  fi
  mapfile -d '' -t into < <(xargs printf '%s\0' <<<"$text")
}
split_args dashboard_args DASHBOARD_ARGS
split_args engine_args ENGINE_ARGS

# Chart.js for the dashboard is copied next to it at build time; our programs otherwise need nothing else.
metrics_flag() {  # metrics_flag PORT: our programs' --metrics, unless METRICS=0 (a port taken is only a warning)
  if [ "$metrics" != 0 ]; then printf -- '--metrics %s:%s' "$host" "$1"; fi
}
if [ -n "${DASHBOARD_CMD:-}" ]; then
  # shellcheck disable=SC2206  # a command line, split on purpose
  dashboard=($DASHBOARD_CMD)
else
  dashboard=("$build/bin/dashboard_server" --host "$host" --port "$dashboard_port" "${dashboard_args[@]}")
fi
receiver_cmd=${RECEIVER_CMD:-"$build/bin/socket_receiver --listen $host:$receiver_port --dashboard http://$host:$dashboard_port/updateDashboard $(metrics_flag "$receiver_metrics_port")"}
if [ -n "${ENGINE_CMD:-}" ]; then
  # shellcheck disable=SC2206  # a command line, split on purpose
  engine=($ENGINE_CMD)
else
  # shellcheck disable=SC2046  # --metrics HOST:PORT, two words or none
  engine=("$build/bin/engine" --in "$host:$engine_port" --out "$host:$receiver_port" $(metrics_flag "$engine_metrics_port")
          "${engine_args[@]}")
fi
client_cmd=${CLIENT_CMD:-"$build/bin/twitter_client --engine $host:$engine_port $(metrics_flag "$client_metrics_port")"}

mkdir -p "$logs"
pids=()
names=()

stop_all() {
  local code=${1:-0}
  trap - INT TERM EXIT
  say "stopping"
  # Downstream last: the engine flushes into a receiver that is still up, and so on.
  local i deadline
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || continue
    deadline=$((SECONDS + stop_timeout))
    while kill -0 "${pids[$i]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      say "${names[$i]} did not stop in ${stop_timeout} s; killing it"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    wait "${pids[$i]}" 2>/dev/null || true
  done
  say "stopped; logs in $logs/"
  exit "$code"
}
trap 'stop_all 0' INT TERM
trap 'stop_all $?' EXIT

start() {  # start NAME COMMAND [ARGS...]: runs in the background, output to logs/NAME.log
  local name=$1
  shift
  say "starting $name: $*"
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

wait_port() {  # wait_port NAME PORT: until the last started program listens, or it dies
  local name=$1 port=$2 pid=${pids[-1]} deadline=$((SECONDS + 30))
  until port_taken "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited before listening on $host:$port; the end of $logs/$name.log:"
      tail -n 20 "$logs/$name.log" >&2
      stop_all 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "$name does not listen on $host:$port after 30 s; see $logs/$name.log"
      stop_all 1
    fi
    sleep 0.05
  done
}

start dashboard "${dashboard[@]}"
wait_port dashboard "$dashboard_port"
# shellcheck disable=SC2086  # the *_cmd strings are command lines, split on purpose
start receiver $receiver_cmd
wait_port receiver "$receiver_port"
if [ -z "$kafka" ]; then
  start engine "${engine[@]}"
  wait_port engine "$engine_port"
else
  brokers=$kafka
  if [ "$kafka" = mock ]; then
    start kafka "$build/bin/mock_cluster" --until-signal --topic "$kafka_topic:$((kafka_partitions / 2 > 0 ? kafka_partitions / 2 : 1))" \
      --topic "$kafka_group-hashtags:$kafka_partitions" --topic "$kafka_group-tops:1" --topic "$kafka_group-state:$kafka_partitions"
    deadline=$((SECONDS + 30))
    until grep -q '^ready$' "$logs/kafka.log" 2>/dev/null; do
      if ! kill -0 "${pids[-1]}" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        say "the mock cluster did not start; see $logs/kafka.log"
        stop_all 1
      fi
      sleep 0.05
    done
    brokers=$(head -n 1 "$logs/kafka.log")
    say "mock Kafka cluster at $brokers (kcat -L -b $brokers shows it)"
  fi
  for ((k = 1; k <= engines; k++)); do
    if [ -n "${ENGINE_CMD:-}" ]; then
      # shellcheck disable=SC2206  # a command line, split on purpose
      engine=($ENGINE_CMD)
    else
      # The first engine's metrics on ENGINE_METRICS_PORT, the others' on the ports after the receiver's.
      port=$((k == 1 ? engine_metrics_port : receiver_metrics_port + k - 1))
      # shellcheck disable=SC2046  # --metrics HOST:PORT, two words or none
      engine=("$build/bin/engine" --kafka "$brokers" --topic "$kafka_topic" --group "$kafka_group"
              --out "$host:$receiver_port" "${kafka_config[@]}" $(metrics_flag "$port") "${engine_args[@]}")
    fi
    start "engine$k" "${engine[@]}"
  done
  if [ -z "${CLIENT_CMD:-}" ]; then
    client_cmd="$build/bin/twitter_client --kafka $brokers --topic $kafka_topic $(metrics_flag "$client_metrics_port")"
    client_args=("${kafka_config[@]}" "${client_args[@]}")  # as words: the path may hold spaces
  fi
fi
# shellcheck disable=SC2086
start client $client_cmd "${client_args[@]}"

say "dashboard: http://$host:$dashboard_port/   (Ctrl-C stops them all)"
if [ "$metrics" != 0 ]; then
  say "metrics: http://$host:{$engine_metrics_port,$client_metrics_port,$dashboard_port,$receiver_metrics_port}/metrics (docs/observability.md)"
fi

# Watch them: a server that dies stops the run; a client whose source ended leaves the rest up.
client_index=$((${#pids[@]} - 1))
client_pid=${pids[$client_index]}
client_done=0
while true; do
  for ((i = 0; i < client_index; i++)); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      wait "${pids[$i]}" && code=0 || code=$?
      say "${names[$i]} exited (code $code); the end of $logs/${names[$i]}.log:"
      tail -n 20 "$logs/${names[$i]}.log" >&2
      stop_all 1
    fi
  done
  if [ $client_done = 0 ] && ! kill -0 "$client_pid" 2>/dev/null; then
    wait "$client_pid" && code=0 || code=$?
    client_done=1
    if [ "$code" = 0 ]; then
      say "client finished its source; the dashboard stays up at http://$host:$dashboard_port/ (Ctrl-C stops)"
    else
      say "client exited with code $code; the end of $logs/client.log:"
      tail -n 20 "$logs/client.log" >&2
      stop_all 1
    fi
  fi
  sleep 0.5
done
