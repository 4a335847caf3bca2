PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run web worker beat test bench venv clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## Set up and run the console with a demo organization on http://127.0.0.1:8000
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py rundemo

## Each role alone, for several machines (README: "Running on several machines")
BIND ?= 0.0.0.0:8000
web: venv
	$(BIN)/python manage.py runweb --bind $(BIND)

## QUEUES=celery (long runs) or QUEUES=interactive (short tasks); both when unset
worker: venv
	$(BIN)/python manage.py runworker $(if $(QUEUES),--queues $(QUEUES))

beat: venv
	$(BIN)/python manage.py runbeat

## Run the whole test suite
test: venv
	$(BIN)/python -m pytest

## Speed and memory benchmarks (figures printed, nothing asserted)
bench: venv
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var
