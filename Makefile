# fleetkit: every set-up step lives here, so a fresh Debian 12 machine (as root)
# needs only `make demo` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLEETKIT := $(BIN)/fleetkit
DEBIAN_PACKAGES := openssh-server openssh-client sudo iproute2 util-linux tini procps psmisc \
	iptables docker.io busybox-static docker-registry prometheus prometheus-node-exporter \
	python3-venv curl ca-certificates less
DEMO_HOSTS ?= 3
PYTEST_ARGS ?=

.PHONY: help setup setup-debian setup-systemctl setup-python demo test lint unit integration e2e bench lab-down clean

help:
	@echo "make demo   install everything, bring up a lab, run the demo"
	@echo "make test   install everything, lint, run the whole test suite"
	@echo "make lint   ruff + mypy"
	@echo "make bench  benchmarks against Fabric, pyinfra, ansible on a 50-host lab"

setup: setup-debian setup-systemctl setup-python

# Debian packages the lab and the tests need. Installed before any lab host
# exists: a package added under a mounted overlay would not appear inside it.
setup-debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "run as root (or install:$$missing)"; exit 1; fi; \
		$(BIN)/fleetkit lab down >/dev/null 2>&1 || true; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# A daemonless systemctl for lab hosts (no init runs there). Debian's `systemctl`
# package conflicts with the installed systemd, so it is unpacked, not installed;
# the lab binds it over /usr/bin/systemctl inside each host, never on the machine.
SYSTEMCTL_SHIM := /usr/local/lib/fleetkit/systemctl
setup-systemctl:
	@if [ ! -x $(SYSTEMCTL_SHIM) ]; then \
		tmp=$$(mktemp -d) && chmod 755 $$tmp && cd $$tmp && \
		(apt-get download systemctl >/dev/null 2>&1 || (apt-get update -qq && apt-get download systemctl)) && \
		dpkg -x systemctl_*.deb x && install -D -m 755 x/usr/bin/systemctl $(SYSTEMCTL_SHIM) && \
		cd / && rm -rf $$tmp && echo "unpacked a daemonless systemctl to $(SYSTEMCTL_SHIM)"; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,ansible]'
	touch $@

setup-python: $(VENV)/.installed

lint: setup-python
	$(BIN)/ruff check fleetkit tests bench
	$(BIN)/ruff format --check fleetkit tests bench
	$(BIN)/mypy

# The whole suite: unit (no network), integration (lab hosts), e2e (swarm and
# Prometheus on the lab). One lab is shared by the session; each layer's time
# is printed. Then the exec, run and health lab tests once more with every
# command going through a connection keeper: results must not change (issue 14).
KEEPER_TESTS := tests/integration/test_exec.py tests/integration/test_playbooks.py \
	tests/integration/test_health.py
test: setup lint
	$(BIN)/python -m pytest -p no:cacheprovider --durations=15 $(PYTEST_ARGS)
	$(BIN)/python -m pytest -p no:cacheprovider --keeper $(PYTEST_ARGS) $(KEEPER_TESTS)

unit: setup-python
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

integration: setup
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

e2e: setup
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

demo: setup
	DEMO_HOSTS=$(DEMO_HOSTS) scripts/demo.sh

# Replaces any running lab with a 50-host one (and a 200-host one for memory).
bench: setup
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python bench/bench_exec.py --hosts 50
	$(BIN)/python bench/bench_exec.py --memory
	$(BIN)/python bench/bench_playbook.py --hosts 50
	$(BIN)/python bench/bench_playbook.py --role --hosts 50
	$(BIN)/python bench/bench_exporter.py --ensure-lab 50
	$(BIN)/python bench/bench_swarm.py --fresh

lab-down:
	$(FLEETKIT) lab down

clean: lab-down
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
