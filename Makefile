# make run: start the server on SQLite at 127.0.0.1:$(PORT). make test: the suite but the long runs,
# which make stress runs.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8080
BIN = $(VENV)/bin

.PHONY: run test bench stress clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[mysql]'
	touch $@

$(VENV)/.installed-test: setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test,mysql]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	PORT=$(PORT) $(BIN)/gunicorn -c deploy/gunicorn.conf.py wsgi:application

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long runs (tests marked stress): 50,000 starts per database, a longer fuzzing run.
stress: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m stress -s $(PYTEST_ARGS)

# make bench: wrk against the server and a bare Flask baseline, then the maintenance run under
# load; see bench/README.md.
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.maintain_load

# Build leftovers only: var/ holds the default SQLite database, which is data, not build output.
clean:
	rm -rf $(VENV) *.egg-info
