#!/bin/sh
# Builds the amqp091-go interop program offline (Debian's Go toolchain and
# Debian's copy of the client), into $1 (outside the repo).
set -eu
out="${1:?usage: build.sh <output-binary>}"
cd "$(dirname "$0")"
export GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local
export GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/warren-interop-gocache}"
go vet .
go build -trimpath -o "$out" .
