# Shortcuts for the commands in README.md (the README's two commands still do the whole set-up
# without make). Everything runs from the virtual environment in .venv; `make VENV=/path` uses another.
VENV ?= .venv
PY := $(VENV)/bin/python
# Benchmark scale, as in README.md's "Benchmark" section.
BENCH_REPS ?= 1000

.PHONY: setup setup-dev run test test-slow lint bench

# The README's install: a virtual environment in .venv and the pinned runtime requirements.
setup:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -r requirements.txt

# The development extras on top: ruff and mypy for `make lint`, Playwright for the browser tests.
setup-dev: setup
	$(VENV)/bin/pip install -r requirements-dev.txt

# The app on the bundled sample team (it opens on the sample with no upload).
run:
	$(VENV)/bin/streamlit run serve.py

# The default suite (slow tests excluded by pyproject's addopts).
test:
	$(PY) -m pytest -q

# What the default run leaves out: real servers, large uploads, timing checks, ruff and mypy.
test-slow:
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -m slow

# ruff and mypy under the project's own configuration (pyproject.toml).
lint:
	$(PY) -m ruff check .
	$(PY) -m mypy

# The benchmark (writes bench/RESULTS.md), then the comparison against DuckDB on its own tables.
bench:
	$(PY) -m bench.run --reps $(BENCH_REPS) --years 3 --density 2.7 --repeat 5 --out bench/RESULTS.md
	$(PY) -m bench.honest --reps $(BENCH_REPS)
