# One entry point for learners, instructors and CI.
#   make lab    install what a learner needs, then open the course in JupyterLab
#   make test   install everything (tests, site, nbgrader), then run the whole test suite
#   make test-fast  the library's and the grader's unit tests only (under a minute)
#   make site   the course as a static website: _build/site/html/index.html
#   make slides one reveal.js deck per notebook: _build/slides/
# Everything is installed into ./.venv; nothing touches your system Python.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_STAMP := $(VENV)/.installed-lab
# Two pytest workers, one whole file per worker (nbval needs a notebook's cells
# to stay together on one kernel).
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: setup setup-lab setup-backends lab lab-command test test-fast test-backends lint bench clean notebooks site slides

# The maintainers' environment (tests, site, slides, nbgrader) ...
setup: $(STAMP)
# ... and the learners' (the course and JupyterLab; no nbgrader).
setup-lab: $(LAB_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.10 is required") if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# JAX and a CPU-only PyTorch beside TensorFlow, for make test-backends.  TORCH_CPU is
# what pip installs for torch: by default PyTorch's CPU-only wheel from its own index
# (the one on the Python package index bundles 3 GB of CUDA); a wheel file also works.
TORCH_CPU ?= torch --index-url https://download.pytorch.org/whl/cpu
BACKENDS_STAMP := $(VENV)/.installed-backends
setup-backends: $(BACKENDS_STAMP)

$(BACKENDS_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet $(TORCH_CPU)
	$(BIN)/python -m pip install --quiet -e ".[dev,jax,torch]"
	touch $(BACKENDS_STAMP)

$(LAB_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[lab]"
	touch $(LAB_STAMP)

# Jupyter refuses to run as root (containers, CI) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# JupyterLab as a learner sees it: the repository is its root, so that every
# notebook's links to ../exercises/ and ../badges/ resolve, and notebook 00 opens.
# jupyter-learner/ switches instructor-only extensions off (nbgrader's menu and
# server extensions), in case this environment also has them (make test installs
# them).  tests/site/test_jupyterlab.py starts JupyterLab with exactly this command line
# (make lab-command prints it).
LAB_COMMAND := JUPYTER_CONFIG_PATH=jupyter-learner $(BIN)/jupyter lab $(ALLOW_ROOT) \
	--ServerApp.root_dir=. notebooks/00_welcome_and_conventions.ipynb

lab: setup-lab
	$(LAB_COMMAND)

lab-command:
	@echo '$(LAB_COMMAND)'

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The inner loop while editing course_lib or course_grader: the library's tests
# (Keras parity included), the grader's unit tests and the doctests, without what
# executes notebooks, drives a browser or is slow (markers: tests/conftest.py).
# Explicit paths: the default testpaths also collect notebooks/ and solutions/.
FAST_MARKERS := not notebooks and not browser and not slow
test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "$(FAST_MARKERS)" tests course_lib course_grader

# The library's parity with Keras (values and each backend's autodiff) and the grading
# (self-checks, the sandbox, course-grade) on the JAX and PyTorch backends, then every
# notebook on each of them against its record (notebooks/outputs/<backend>/), one
# notebook per test, spread over both workers.  make test runs them on TensorFlow,
# and grades every solution on each installed backend.
BACKEND_TESTS := tests/losses tests/gradients tests/compare tests/grading
BACKEND_NOTEBOOK_TESTS := tests/notebooks/test_backend_records.py
test-backends: setup-backends
	for backend in jax torch; do \
		echo "== KERAS_BACKEND=$$backend"; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest $(PYTEST_ARGS) $(BACKEND_TESTS) \
			--ignore=tests/grading/test_grader_solutions.py || exit 1; \
		KERAS_BACKEND=$$backend $(BIN)/python -m pytest -n 2 --dist load \
			$(BACKEND_NOTEBOOK_TESTS) || exit 1; \
	done

lint: setup
	$(BIN)/ruff check course_lib course_grader tests benchmarks scripts
	$(BIN)/ruff format --check course_lib course_grader tests benchmarks scripts

bench: setup
	$(BIN)/python benchmarks/bench_losses.py

clean:
	rm -rf $(VENV) *.egg-info

# Re-execute the course notebooks in fresh kernels and store their outputs
# (do this after editing a notebook, then commit).
NOTEBOOKS ?= notebooks/*.ipynb
notebooks: setup
	$(BIN)/python scripts/notebooks.py execute $(NOTEBOOKS)

# The course as a static website, rendered from the notebooks' stored outputs
# (nothing is executed), and one reveal.js deck per notebook.  Both work offline;
# they need Node.js's npm once, to install MathJax and reveal.js (npm ci).
site: setup
	$(BIN)/python scripts/build_site.py html

slides: setup
	$(BIN)/python scripts/build_site.py slides
