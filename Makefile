# The only entry points: make run, make test, make lint, make bench, make mutation, make clean.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEPS   := .deps
NODE_SDK := $(DEPS)/node/node_modules/@azure/notification-hubs/package.json
CHROMIUM := /usr/bin/chromium
MITMDUMP := $(DEPS)/mitm-venv/bin/mitmdump

.PHONY: run test lint pytest install compiled system-deps postgres-deps node-deps mitm-deps clean bench mutation

run: $(STAMP) compiled
	$(BIN)/hubscope demo

test: install lint pytest

install: $(STAMP) compiled system-deps node-deps mitm-deps

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# The writer's decoding and row building compiled with mypyc (`proxy/compiled.py`):
# 9–12 % less CPU per stored exchange. A no-op while the build matches the sources; built from
# the sources, as a stale build is never imported.
compiled: $(STAMP)
	HUBSCOPE_PURE=1 $(BIN)/python -c 'from proxy import compiled; compiled.build()'

# Debian packages the tests need: Chromium for the viewer's browser tests, PostgreSQL for
# the store's second backend (the tests start a throwaway server of it as `nobody`).
system-deps: $(CHROMIUM) postgres-deps
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The official JS SDK, pinned, in an ignored folder: the end-to-end client tests run it.
node-deps: $(NODE_SDK)
$(NODE_SDK): tests/node/package.json
	mkdir -p $(DEPS)/node
	cp tests/node/package.json $(DEPS)/node/package.json
	cd $(DEPS)/node && npm install --no-audit --no-fund --loglevel=error
	touch $(NODE_SDK)

# mitmproxy in its own venv (as `make bench` uses it): the HAR import tests run its hardump.
mitm-deps: $(MITMDUMP)
$(MITMDUMP): bench/requirements-mitm.txt
	test -x $(DEPS)/mitm-venv/bin/python || $(PYTHON) -m venv $(DEPS)/mitm-venv
	$(DEPS)/mitm-venv/bin/pip install -q --disable-pip-version-check -r bench/requirements-mitm.txt
	touch $(MITMDUMP)

lint: $(STAMP)
	$(BIN)/ruff check proxy viewer tests
	$(BIN)/mypy

# pytest-xdist workers; most tests wait on real servers, so more workers than cores pay.
# PYTEST_WORKERS=0 runs the suite in one process. Bytecode is cached even where the
# environment says not to: the suite starts hundreds of `hubscope` processes, and each
# would compile the project's modules again.
PYTEST_WORKERS ?= 4
pytest: $(STAMP) compiled
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(PYTEST_WORKERS)

bench: install
	bash bench/make_bench.sh

# Mutation testing (cosmic-ray) over redaction, SAS, forwarded headers, the stand-in hub's
# auth and validation, and the tag rules; several hours on 2 cores; not part of CI.
# One target: make mutation MUTATION_TARGETS=sas. Results: docs/mutation-testing.md.
MUTATION_TARGETS ?=
mutation: install
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test,mutation]'
	$(BIN)/python -m tests.mutation $(MUTATION_TARGETS)

clean:
	rm -rf $(VENV) $(DEPS) .mypy_cache .ruff_cache .pytest_cache test-artifacts build
	rm -f proxy/_compiled.stamp
	find proxy -name '*.so' -delete
