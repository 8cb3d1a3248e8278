#!/usr/bin/env bash
# Starts the action server, the Rasa server and the portal widget's page on
# localhost, prints their URLs, and stops all on Ctrl-C (or when any one dies).
# Called by `make run`.
set -euo pipefail

: "${RASA_BIN:?}" "${ACTIONS_PY:?}" "${MODEL:?}" "${RASA_PORT:=5005}" "${ACTION_PORT:=5055}"
: "${WIDGET_PORT:=8080}" "${CONSOLE_PORT:=8090}"
# The Rasa server as the visitor's browser reaches it (the widget's socket).
: "${WIDGET_RASA_URL:=http://localhost:$RASA_PORT}"
# Loopback by default; BIND_ADDRESS=0.0.0.0 to serve other machines (containers).
: "${BIND_ADDRESS:=127.0.0.1}"
# Rasa's HTTP API reads and rewrites whole conversations: never without a
# token. Random for this run unless set (the channels need none).
: "${RASA_API_TOKEN:=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}"
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_for() {  # url, name, pid
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "$2 exited during start-up" >&2; return 1; }
    sleep 0.5
  done
  echo "$2 did not answer at $1 within 120 s" >&2
  return 1
}

# The portal's application-tracking API: the real one when PORTAL_API_URL is
# set, otherwise the bundled simulator (demo applications in every status).
if [[ -z "${PORTAL_API_URL:-}" ]]; then
  : "${PORTAL_SIM_PORT:=8070}" "${PORTAL_API_TOKEN:=demo-token}"
  export PORTAL_API_URL="http://127.0.0.1:$PORTAL_SIM_PORT" PORTAL_API_TOKEN
  "$ACTIONS_PY" -m portal.simulator --host 127.0.0.1 --port "$PORTAL_SIM_PORT" \
    --token "$PORTAL_API_TOKEN" &
  pids+=($!)
  wait_for "$PORTAL_API_URL/health" "portal simulator" "$!"
fi

SANIC_HOST="$BIND_ADDRESS" "$ACTIONS_PY" -m actions --port "$ACTION_PORT" &
pids+=($!)
"$RASA_BIN" run --model "$MODEL" --enable-api --auth-token "$RASA_API_TOKEN" --cors "*" \
  --interface "$BIND_ADDRESS" --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml &
pids+=($!)
# The demo portal page with the chat widget (widget/; assets from node_modules).
"$ACTIONS_PY" -m widget --host "$BIND_ADDRESS" --port "$WIDGET_PORT" \
  --rasa-url "$WIDGET_RASA_URL" &
pids+=($!)
# The hotline staff console (console/): search, status, handoff queue.
"$ACTIONS_PY" -m console serve --host "$BIND_ADDRESS" --port "$CONSOLE_PORT" &
pids+=($!)

wait_for "http://localhost:$CONSOLE_PORT/health" "hotline console" "${pids[-1]}"
wait_for "http://localhost:$WIDGET_PORT/health" "portal widget" "${pids[-2]}"
wait_for "http://localhost:$ACTION_PORT/health" "action server" "${pids[-4]}"
wait_for "http://localhost:$RASA_PORT/status?token=$RASA_API_TOKEN" "Rasa server" "${pids[-3]}"
cat <<MSG

  Rasa REST:      http://localhost:$RASA_PORT/webhooks/rest/webhook
  Rasa Socket.IO: http://localhost:$RASA_PORT/socket.io
  Rasa API:       http://localhost:$RASA_PORT/status?token=\$RASA_API_TOKEN (random unless you set it)
  Action server:  http://localhost:$ACTION_PORT/health
  Portal API:     $PORTAL_API_URL (try a status question with H12.36-241125-0019)
  Portal widget:  http://localhost:$WIDGET_PORT/
  Staff console:  http://localhost:$CONSOLE_PORT/ (first account: $ACTIONS_PY -m console add-user NAME)

  Try: curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"demo","message":"xin chào"}'
  Ctrl-C stops everything.
MSG
wait -n "${pids[@]}"
echo "a service stopped; shutting the others down" >&2
