#!/bin/sh
# Installs what libopenaimodel needs to build and test, if it is missing:
# Debian packages (libcurl, jansson, pkg-config, openssl) and the Python packages of
# the test server. Safe to run again: it installs nothing already present.
set -eu

missing=""
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
# the TLS test makes a self-signed certificate with the openssl tool
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists libcurl || missing="$missing libcurl4-openssl-dev"
    pkg-config --exists jansson || missing="$missing libjansson-dev"
else
    missing="$missing libcurl4-openssl-dev libjansson-dev"
fi

if [ -n "$missing" ]; then
    echo "deps: installing Debian packages:$missing"
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "deps: need root (or sudo) to install:$missing" >&2; exit 1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! $PYTHON -c "import flask, yaml, openapi_core, pytest" >/dev/null 2>&1; then
    echo "deps: installing Python packages for the test server"
    $PYTHON -m pip install -q --disable-pip-version-check "flask>=3" "pyyaml>=6" "openapi-core==0.23.1" "pytest>=7" 2>&1 \
        | grep -v "Running pip as the 'root' user" || true
    $PYTHON -c "import flask, yaml, openapi_core, pytest"
fi
