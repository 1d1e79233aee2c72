# The course's two commands (README's quick start):
#   make lab    set up the environment, then open the course in JupyterLab
#   make test   set up the same environment, then run every test: unit tests, nbval on every notebook and
#               on every student copy up to its first exercise stub, and the website in a browser
# Setup is idempotent: the virtualenv in .venv is created once and reinstalled only when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB     ?= notebooks
BUILD  := _build
PORT   ?= 8888
# Jupyter refuses to start as root (containers, some cloud machines) unless told it may.
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test test-unit test-notebooks student site browser sync constraints clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[lab,test,site]"
	@touch $@

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ROOT_OK) $(LAB_ARGS)

# The notebooks' run keeps their outputs in _build/executed/ (conftest.py); the website test, which
# pytest runs last, renders those outputs instead of executing every notebook again. Matplotlib gets a
# font cache of its own: the one in ~/.cache is shared with every other environment, and a stale one
# prints "findfont" warnings, which the browser test rightly reports as error output on the pages.
test: $(STAMP) browser
	rm -rf $(BUILD)/executed $(BUILD)/student
	$(BIN)/python -m mtl_course.course student --until-first-stub $(BUILD)/student
	MPLCONFIGDIR=$(CURDIR)/$(BUILD)/matplotlib $(BIN)/python -m pytest tests $(NB) $(BUILD)/student --nbval-lax --nbval-current-env --durations=0

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests -m "not site" --durations=10

# One notebook: make test-notebooks NB=notebooks/00_getting_started.ipynb
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NB) --nbval-lax --nbval-current-env -p no:python --durations=0

student: $(STAMP)
	$(BIN)/python -m mtl_course.course student

# The course website in _build/site/_build/html (executes any notebook that `make test` has not run).
site: $(STAMP)
	$(BIN)/python -m mtl_course.site

# The browser test needs Chromium and its WebDriver. As root on Debian/Ubuntu (CI) they are
# installed here; elsewhere install them yourself, or the browser test is skipped (fails when CI=true).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium for the browser test (Debian packages chromium, chromium-driver)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "no chromium/chromedriver on PATH: the website's browser test will be skipped"; fi

sync: $(STAMP)
	$(BIN)/python -m mtl_course.course sync

# Re-pin the exact versions after changing dependencies (keeps the header comments; drops torch's +cpu tag).
constraints: $(STAMP)
	{ grep '^#' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^#' | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) student $(BUILD) .pytest_cache
