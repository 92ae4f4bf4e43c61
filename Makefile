# The two commands README.rst starts with: `make run` and `make test`.
# Each creates or updates the local virtualenv .venv/ first (`make install`).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= tap.conf

.PHONY: install install-test run test cert bench clean

# What running needs (Twisted, pyOpenSSL...): an editable install, whose
# .pth puts the checkout on sys.path (setup.cfg's package_dir "=."), so
# twistd finds twisted/plugins/xmuc_plugin.py.
install: $(VENV)/.installed

# Plus what the tests need (pytest, slixmpp, psycopg, import-linter...).
install-test: $(VENV)/.installed-test

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,postgresql]'
	touch $@

# A self-signed certificate for localhost, made once (xmucctl cert).
data/localhost.crt: | install
	$(BIN)/python -m xmuc.ctl -c $(CONFIG) cert localhost

run: install data/localhost.crt
	$(BIN)/twistd -n --pidfile data/twistd.pid xmuc -c $(CONFIG)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# xmuc against Prosody when Prosody is installed, else xmuc alone
# (bench/README.rst); BENCH_ARGS=--quick for a shorter run.
bench: install-test
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info _trial_temp* .pytest_cache
