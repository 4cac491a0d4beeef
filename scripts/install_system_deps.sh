#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the real-browser test, poppler-utils to render
# the model-card PDF to images, fonts so charts and pages render text the same everywhere.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium poppler-utils fonts-dejavu-core
