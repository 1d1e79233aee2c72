# The course's two commands (README's quick start):
#   make lab    set up the environment, then open the course in JupyterLab
#   make test   set up the same environment, then run every test (unit tests + nbval on every notebook)
# Setup is idempotent: the virtualenv in .venv is created once and reinstalled only when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB     ?= notebooks
PORT   ?= 8888
# Jupyter refuses to start as root (containers, some cloud machines) unless told it may.
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test test-unit test-notebooks student sync constraints clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[lab,test]"
	@touch $@

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ROOT_OK) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest tests $(NB) --nbval-lax --nbval-current-env --durations=0

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests --durations=10

# One notebook: make test-notebooks NB=notebooks/00_getting_started.ipynb
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NB) --nbval-lax --nbval-current-env -p no:python --durations=0

student: $(STAMP)
	$(BIN)/python -m mtl_course.course student

sync: $(STAMP)
	$(BIN)/python -m mtl_course.course sync

# Re-pin the exact versions after changing dependencies (keeps the header comments; drops torch's +cpu tag).
constraints: $(STAMP)
	{ grep '^#' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^#' | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) student site .pytest_cache
