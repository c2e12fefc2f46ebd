#!/usr/bin/env bash
# schemathesis (from PyPI) against the REST API's served OpenAPI document: a real tandem
# process with an administrator, a domain t/d and a model m1; generated requests as the
# administrator and as a read-only API key. It fails on any 5xx, any response that breaks the
# document (status, content type, headers, body schema), a schema-violating request that is
# accepted, or an auth check that can be skipped. (positive_data_acceptance is left out: ids and
# the query language are checked beyond what a JSON schema says, so a schema-valid request can
# rightly be refused with 400.) Two operations are left out: the event stream, which never ends,
# and registering a webhook, which would make the server post to whatever URL is generated
# (only loopback is reached from tests); both are exercised by engine/tests and tests/e2e.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${TANDEM_BIN:-$PWD/target/debug/tandem}"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "schemathesis==4.32.5"

data="$work/data"
"$bin" admin add root --password "root pw" --data-dir "$data" >/dev/null
"$bin" domain create --data-dir "$data" --namespace t --domain d >/dev/null
key=$("$bin" api-key create --read-only --name schemathesis --data-dir "$data" --namespace t --domain d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -XPOST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"root","password":"root pw"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sf -XPOST "$base/api/v1/domains/t/d/models" -H "Authorization: Bearer $token" \
  -d '{"collection":"notes","id":"m1","data":{"title":"hello","n":[1,2]}}' >/dev/null

run() {
  # From the scratch directory: schemathesis keeps its replay data in the working directory.
  (cd "$work" && "$work/venv/bin/schemathesis" run "$base/api/v1/openapi.json" -H "Authorization: Bearer $1" \
    --checks all --exclude-checks positive_data_acceptance \
    --exclude-operation-id events --exclude-operation-id add_webhook \
    --max-examples "$2" --seed 20261203 --no-color)
}
echo "-- as the administrator"
run "$token" 40
echo "-- as a read-only API key"
run "$key" 15
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 panicked "$work/server.log" >&2
  exit 1
fi
echo "REST API conformance: passed"
