# ha_san.aoe — the two commands of README.md, and the pieces they are made of.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
BIN := $(VENV)/bin
TIER := scripts/tier.sh
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv host-deps docker lint sanity unit molecule molecule-kernel lab-test test demo benchmark lab-build lab-up lab-down drill drill-scorn idle-watch clean

help:
	@echo "make demo   - set up, build and boot the lab, run site.yml against it, then one crash drill and its report"
	@echo "make test   - every test tier: lint, sanity, unit, molecule, lab"

$(BIN)/ansible-playbook: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

# The collection must be found as ha_san.aoe when run from a checkout (ansible.cfg points here).
.collections/ansible_collections/ha_san/aoe:
	mkdir -p .collections/ansible_collections/ha_san
	ln -sfn ../../.. $@

venv: $(BIN)/ansible-playbook .collections/ansible_collections/ha_san/aoe

host-deps:
	scripts/host-deps.sh

docker: host-deps
	scripts/ensure-dockerd.sh

lint: venv
	$(TIER) lint scripts/lint.sh

sanity: venv
	$(TIER) sanity scripts/ansible-test-sanity.sh

unit: venv
	$(TIER) unit $(BIN)/pytest -q -n auto --dist loadfile tests/unit tests/validation

molecule: venv docker
	$(TIER) molecule scripts/molecule-all.sh

# aoe_client's kernel build and patched driver (not in make test: see scripts/molecule-all.sh).
molecule-kernel: venv docker
	$(TIER) molecule-kernel scripts/molecule-all.sh aoe_client_kernel

lab-test: venv host-deps
	$(TIER) lab $(BIN)/pytest -v -rP --durations=0 -m lab tests/integration

# The images build in the background while lint, sanity and unit run (scripts/prebuild-images.sh).
test: venv host-deps
	@rm -f $(CURDIR)/.tiers.log; mkdir -p $(CURDIR)/tests/output
	@export HA_SAN_TIER_LOG=$(CURDIR)/.tiers.log; rc=0; \
	scripts/prebuild-images.sh $(CURDIR)/tests/output > $(CURDIR)/tests/output/prebuild.log 2>&1 & pre=$$!; \
	for t in lint sanity unit molecule lab-test; do $(MAKE) --no-print-directory $$t || rc=1; done; \
	wait $$pre; echo; echo "===== summary ====="; cat $(CURDIR)/tests/output/prebuild.log $(CURDIR)/.tiers.log; exit $$rc

lab-build: venv host-deps
	$(PYTHON) -m lab build

lab-up: lab-build
	scripts/lab-up-once.sh

drill: lab-up
	scripts/drill-matrix.sh

drill-scorn: lab-up
	scripts/drill-scorn-compare.sh

idle-watch: lab-up
	scripts/idle-watch.sh

lab-down:
	$(PYTHON) -m lab down

demo: lab-up
	scripts/demo.sh

# fio on the lab's spare disk (vdd), r0's DRBD device and its export (scratch in the lab: only drill blocks on it).
benchmark: lab-up
	ansible-playbook playbooks/benchmark.yml -i inventories/lab -e benchmark_scratch_resource=r0 \
	  -e benchmark_scratch_disk=/dev/vdd

clean:
	rm -rf tests/output .tiers.log
