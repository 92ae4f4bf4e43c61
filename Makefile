# The two commands README.rst starts with: `make run` and `make test`.
# Each creates or updates the local virtualenv .venv/ first (`make install`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= tap.conf

.PHONY: install run test cert bench clean

install: $(VENV)/.installed

# editable_mode=compat puts the checkout itself on sys.path, so that
# twistd finds twisted/plugins/xmuc_plugin.py.
$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgresql]' --config-settings editable_mode=compat
	touch $@

# A self-signed certificate for localhost, made once (xmucctl cert).
data/localhost.crt: | install
	$(BIN)/python -m xmuc.ctl -c $(CONFIG) cert localhost

run: install data/localhost.crt
	$(BIN)/twistd -n xmuc -c $(CONFIG)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# xmuc against Prosody when Prosody is installed, else xmuc alone
# (bench/README.rst); BENCH_ARGS=--quick for a shorter run.
bench: install
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info _trial_temp* .pytest_cache
