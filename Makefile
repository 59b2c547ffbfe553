# Two set-up commands: `make run` and `make test`. Both install first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench demo clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	@touch $(STAMP)

run: install
	$(BIN)/plume

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	for name in pipeline drafting claims retrieval slack_ack scheduler report; do $(BIN)/python bench/$$name.py || exit 1; done

demo: install
	$(BIN)/plume demo

clean:
	rm -rf $(VENV) .plume .pytest_cache
