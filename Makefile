# The course's two commands (README's quick start):
#   make lab    set up the environment, then open the course in JupyterLab
#   make test   set up the same environment, then run every test in three parts, and print each part's time:
#               setup; tests (the unit tests, student copies included; every notebook under nbval; JupyterLab
#               in Chromium), WORKERS at a time, with each kind's time added up; site (the website in Chromium)
# Setup is idempotent: the virtualenv in .venv is created once and reinstalled only when
# pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NB     ?= notebooks
BUILD  := _build
PORT   ?= 8888
# make test runs WORKERS notebooks (and unit-test files) side by side, one per core of CI's 2-core machine
# (pytest-xdist; --dist loadfile keeps each notebook on one worker, in one kernel).
WORKERS ?= 2
TIMES  := $(BUILD)/test-times.txt
# Jupyter refuses to start as root (containers, some cloud machines) unless told it may.
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test test-unit test-notebooks test-gpu student site site-instructors browser sync constraints clean

# The installer is uv (pinned in constraints.txt like everything else): it installs the ~150 pinned packages
# in about 20 s where pip takes 70-80 s (measured on CI's 2-core machine, a fresh clone: 21 s against 71 s
# for pip). Like pip, it compiles the bytecode at install (--compile-bytecode; uv's default is not to):
# where PYTHONDONTWRITEBYTECODE is set, as on our machines, nothing is ever compiled later, and every
# process, each notebook's kernel included, compiles all it imports again (import torch: 4.3 s instead
# of 2.0 s). uv does not read pip's configuration, so the wheel folders and package
# indexes that pip is set up with here (PIP_FIND_LINKS, PIP_EXTRA_INDEX_URL, PIP_INDEX_URL or pip.conf:
# a local CPU-only torch wheel, say) are handed to it; and, like pip, it takes the best match from all of them.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	@pip_get() { $(BIN)/python -m pip config get "global.$$1" 2>/dev/null || true; }; \
	links="$${PIP_FIND_LINKS:-$$(pip_get find-links)}"; extra="$${PIP_EXTRA_INDEX_URL:-$$(pip_get extra-index-url)}"; \
	index="$${PIP_INDEX_URL:-$$(pip_get index-url)}"; \
	set -f; install="$(BIN)/uv pip install --quiet --python $(BIN)/python --index-strategy unsafe-best-match --compile-bytecode \
	  $$(for l in $$links; do printf ' --find-links %s' "$$l"; done)$$(for u in $$extra; do printf ' --extra-index-url %s' "$$u"; done) \
	  $${index:+--index-url $$index} -c constraints.txt -e .[lab,test,site]"; echo $$install; $$install
	@touch $@

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ROOT_OK) $(LAB_ARGS)

# make test runs pytest twice, so that the website is built only after every notebook has run:
#   tests       one pytest-xdist run on WORKERS workers, a file at a time: the unit tests first (tests/,
#               the student copies too: each equals its notebook but for the solutions, and its stubs and
#               checks run there), then, slowest first, nbval on every notebook, each whole in one kernel,
#               and the browser test: JupyterLab from `make lab` in headless Chromium, chapter 3 run and
#               its explorer's slider moved. conftest.py keeps the notebooks' outputs in _build/executed/
#               for the website, and adds up each kind's time. (In parts of their own, the unit tests'
#               slowest files and the browser test each left a core idle: 645 s in all, now about 10% less.)
#   site        the website built from those outputs, every page loaded in headless Chromium
# Every part runs even when an earlier one fails (the site needs the notebooks, though); the table at
# the end gives each part's wall time and outcome. Matplotlib gets a font cache of its own: the one in
# ~/.cache is shared with every other environment, and a stale one prints "findfont" warnings, which the
# browser tests rightly report as error output on the pages.
# Each worker's PyTorch gets one thread (OMP_NUM_THREADS=1): two workers with two threads each on two
# cores wait for one another inside every small operation. Measured on CI's 2-core machine, 500 Adam
# steps of a small MLP took 0.4-0.6 s with one thread each and 6-7 s with two each, side by side
# (1.1 s alone with two threads): the course's models are too small to gain from a second thread.
ONE_THREAD := OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
PYTEST := $(ONE_THREAD) MPLCONFIGDIR=$(CURDIR)/$(BUILD)/matplotlib $(BIN)/python -m pytest
NBVAL  := --nbval-lax --nbval-current-env -p no:python
# conftest.py writes there what each kind of test took, added up (unit tests, notebooks, the browser test)
DETAIL := $(BUILD)/test-times-detail.txt
# $(call part,NAME,COMMAND): run one part of make test; append its wall time and outcome to $(TIMES)
part = start=$$(date +%s); if $(2); then outcome=passed; else outcome=FAILED; failed=1; fi; \
	printf '%5d s  %-10s %s\n' $$(( $$(date +%s) - start )) '$(1)' $$outcome >> $(TIMES)

test:
	@mkdir -p $(BUILD) && rm -rf $(BUILD)/executed $(TIMES) $(DETAIL)
	@failed=0; begin=$$(date +%s); \
	$(call part,setup,$(MAKE) --no-print-directory setup browser); \
	if [ $$failed = 0 ]; then \
	  $(call part,tests,MTL_TIMES_DETAIL=$(DETAIL) $(PYTEST) -n $(WORKERS) --dist loadfile \
	    tests $(NB) -m "not site" --nbval-lax --nbval-current-env --durations=20); \
	  cat $(DETAIL) >> $(TIMES) 2>/dev/null; \
	  if [ $$outcome = passed ]; then \
	    $(call part,site,$(PYTEST) tests/test_site.py -m site); \
	  else echo '    - s  site       skipped: it shows the notebooks, and a test there failed' >> $(TIMES); failed=1; fi; \
	fi; \
	echo; echo "make test: time per part (wall clock)"; cat $(TIMES); \
	printf '%5d s  %-10s %s\n' $$(( $$(date +%s) - begin )) 'in all' $$([ $$failed = 0 ] && echo passed || echo FAILED); \
	exit $$failed

test-unit: $(STAMP)
	$(ONE_THREAD) $(BIN)/python -m pytest -n $(WORKERS) --dist loadfile tests -m "not site and not lab" --durations=10

# One notebook: make test-notebooks NB=notebooks/00_getting_started.ipynb
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NB) --nbval-lax --nbval-current-env -p no:python --durations=0

# The GPU check: the unit tests (on the CPU and the GPU) and every notebook in its GPU setting, the
# notebooks GPU_WORKERS at a time (one kernel each), with each notebook's time at the end. It runs in the
# current Python (PYTHON), with the torch that is already there (Colab's, say): the course and its test
# tools are installed without constraints.txt, so pip keeps that torch. MTL_SETTING=gpu asks for the GPU
# setting even where mc.gpu_setting would not find a GPU by itself.
GPU_WORKERS ?= auto
test-gpu:
	$(PYTHON) -m pip install --quiet -e ".[test]"
	MTL_SETTING=gpu $(ONE_THREAD) $(PYTHON) -m pytest -n $(GPU_WORKERS) --dist loadfile tests -m "not site and not lab" --durations=10
	MTL_SETTING=gpu $(ONE_THREAD) $(PYTHON) -m pytest -n $(GPU_WORKERS) --dist loadfile $(NB) $(NBVAL) --durations=20

# Student copies in student/ (or OUT=folder). Copies already there are kept (they hold the student's
# work) and only missing ones are written; ARGS=--force overwrites them.
OUT ?= student
student: $(STAMP)
	$(BIN)/python -m mtl_course.course student $(OUT)$(if $(ARGS), $(ARGS))

# The course website for students (no solutions) in _build/site/_build/html (executes any notebook that
# `make test` has not run).
site: $(STAMP)
	$(BIN)/python -m mtl_course.site

# The instructors' edition (solutions folded, the instructor's guide) in _build/site-instructors/_build/html
site-instructors: $(STAMP)
	$(BIN)/python -m mtl_course.site --instructors

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
