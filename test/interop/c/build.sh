#!/bin/sh
# Builds the rabbitmq-c interop program into $1 (outside the repo).
# Needs gcc and Debian's librabbitmq-dev.
set -eu
out="${1:?usage: build.sh <output-binary>}"
cd "$(dirname "$0")"
gcc -std=c11 -D_DEFAULT_SOURCE -O1 -Wall -Wextra -Werror -o "$out" scenarios.c -lrabbitmq
