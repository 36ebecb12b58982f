# Two commands on a fresh clone: `make run` (the main job) and `make test`.
# Both create .venv and install the pinned environment (requirements/lock.txt) first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-slow lint typecheck bench validate-full lock

$(STAMP): requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build (DESIGN §8)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check weibull_stats tests benchmarks validation
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q -n 2 -m "not slow"
	$(BIN)/weibull-stats validate --quick --out build/validation-quick
	# the docs build also executes every notebook (mkdocs-jupyter): a cell that raises fails it
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

test-slow: install
	$(BIN)/python -m pytest -q -n 2 -m slow

# The main job: the quick validation gate, then every matrix of the embedded all-MiniLM-L6-v2
# with bootstrap intervals; prints the per-kind summary and the report path (out/minilm/report.md).
RUN_BOOTSTRAP ?= 199

run: install
	$(BIN)/weibull-stats validate --quick --out build/validation-quick
	$(BIN)/weibull-stats scan minilm --bootstrap $(RUN_BOOTSTRAP) --out out/minilm

# Regenerate every committed table and plot under validation/results (65 min on 2 cores at 0.4.0:
# the interval coverage study 44, the goodness-of-fit size study 10).
validate-full: install
	$(BIN)/weibull-stats validate --full --out validation/results

bench: install
	$(BIN)/python benchmarks/run.py

# Regenerate requirements/lock.txt from the current .venv (after adding a dependency).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i '^weibull' \
		| sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > requirements/lock.txt
