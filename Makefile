# mlnb: two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt when the settings that define it change.
STAMP := $(VENV)/.installed-$(shell cat settings.ini setup.py 2>/dev/null | md5sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: install labextension demo test check-sync nbtest pytest browser-deps bench clean lab

install: $(STAMP) labextension

$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel 'setuptools<81'
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The JupyterLab extension: extension/ (TypeScript) built by npm into mlnb/labextension when its sources change,
# linked into the venv (an editable install gets no data_files); the server extension is enabled by its config file.
EXT_SRC := $(wildcard extension/src/*.ts extension/style/* extension/schema/*) extension/package.json extension/tsconfig.json \
           extension/scripts/schema-to-ts.mjs mlnb/lab/api.schema.json
LABEXT := mlnb/labextension/package.json
SERVER_CONF := $(VENV)/etc/jupyter/jupyter_server_config.d/mlnb.json

labextension: $(LABEXT) $(SERVER_CONF) $(VENV)/share/jupyter/labextensions/mlnb/install.json

extension/node_modules/.package-lock.json: extension/package-lock.json
	cd extension && npm ci --no-audit --no-fund

$(LABEXT): $(EXT_SRC) extension/node_modules/.package-lock.json | $(STAMP)
	cd extension && PATH="$(abspath $(BIN)):$$PATH" npm run build
	touch $@

# A copy, not `jupyter labextension develop`'s symlink: Voila's file handler refuses symlinks out of its folder.
$(VENV)/share/jupyter/labextensions/mlnb/install.json: $(LABEXT) extension/install.json
	rm -rf $(@D) && cp -r mlnb/labextension $(@D) && cp extension/install.json $@

$(SERVER_CONF): jupyter-config/server-config/mlnb.json | $(STAMP)
	mkdir -p $(@D) && cp $< $@

# Debian's chromium drives the real-browser tests (never `playwright install`: it downloads).
browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The taxi pipeline run continuously: the months arrive as spans (examples/taxi/spans.py writes incoming/<month>.csv)
# and `mlnb trigger` decides after each arrival (exit 0 fired, 3 not). January and February train the first model
# (nothing is served yet); March's longer trips drift and retrain it (evaluated, blessed, pushed); April's broken
# export is an anomaly that blocks training, and the published dashboard says why. A second `make demo` decides nothing
# new, and its replay of April's run is all cache hits. `mlnb watch examples/taxi` does the same as the months arrive.
DEMO := examples/taxi
demo: install
	@set -e; for months in "Jan Feb" Mar Apr; do \
	  $(BIN)/python $(DEMO)/spans.py $$months; \
	  code=0; $(BIN)/mlnb trigger $(DEMO)/pipeline.yaml || code=$$?; \
	  if [ $$code -ne 0 ] && [ $$code -ne 3 ]; then exit $$code; fi; \
	done
	$(BIN)/mlnb run $(DEMO)/pipeline.yaml -p ingest.span=Apr
	$(BIN)/mlnb trigger $(DEMO)/pipeline.yaml --log
	$(BIN)/mlnb publish latest --workspace $(DEMO)
	@echo
	@echo "Dashboards (Voila on 127.0.0.1, open the URL it prints):  $(BIN)/mlnb serve $(DEMO)/site"
	@echo "Static dashboard, no server needed:  $(DEMO)/site/<run id>/index.html"
	@echo "The step notebooks in JupyterLab:  make lab, then open $(DEMO)/ (executed copies in $(DEMO)/runs/)"

# The notebooks and the package never drift apart: fail if exporting or cleaning would change a file.
check-sync: install
	@before=$$(find mlnb nbs -type f -not -path '*/__pycache__/*' | sort | xargs md5sum | md5sum); \
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean; \
	after=$$(find mlnb nbs -type f -not -path '*/__pycache__/*' | sort | xargs md5sum | md5sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export/nbdev_clean changed mlnb/ or nbs/: edit nbs/, run nbdev_export and nbdev_clean, commit both."; \
	  git status --short -- mlnb nbs; exit 1; fi

nbtest: install
	$(BIN)/nbdev_test --n_workers 2 --timing

pytest: install browser-deps
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

test: check-sync nbtest pytest

bench: install
	for f in bench/bench_*.py; do $(BIN)/python $$f || exit 1; done

lab: install
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --allow-root

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
