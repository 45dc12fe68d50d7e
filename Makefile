# The front door: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
SAM_VENV := .sam-venv
SAM    := $(SAM_VENV)/bin/sam
# checkov pins many packages of its own, so it lives in a venv of its own too.
CHECKOV_VENV := .checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# The SageMaker SDK layer's packages, for this machine's Python: local mode runs the blueprint
# functions that use the layer with this interpreter (same pin as layers/sagemaker/).
LAYER_VENV  := .layer-venv
LAYER_STAMP := $(LAYER_VENV)/.installed-$(shell cat layers/sagemaker/requirements.txt | cksum | cut -d' ' -f1)
export AWS_MAX_ATTEMPTS ?= 1
export SAM_CLI_TELEMETRY ?= 0

.DEFAULT_GOAL := help
.PHONY: help install layer-venv browser test test-fast test-long lint format demo demo-note-venv demo-note-layer bench build publish clean e2e-aws

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ## create .venv with the project and its dev tools

# The SAM CLI pins its own boto3, so it lives in a venv of its own.
$(SAM):
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check 'aws-sam-cli>=1.120,<2'

$(CHECKOV):
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check 'checkov>=3.2,<4'

$(LAYER_STAMP): layers/sagemaker/requirements.txt
	@test -x $(LAYER_VENV)/bin/python || $(PYTHON) -m venv $(LAYER_VENV)
	$(LAYER_VENV)/bin/python -m pip install -q --disable-pip-version-check -r layers/sagemaker/requirements.txt
	@rm -f $(LAYER_VENV)/.installed-*; touch $@

layer-venv: $(LAYER_STAMP) ## the SageMaker SDK layer's packages for local mode (.layer-venv)

# Headless Chromium from Debian's packages: the e2e test that renders the HTML drift report uses it.
# Installed once (as root, or with passwordless sudo); a user who can do neither is told what to run.
browser: ## install Debian's chromium if it is missing (for the HTML report's browser test)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then run=; elif sudo -n true 2>/dev/null; then run="sudo -n"; else \
	    echo "chromium is missing and this user cannot install packages: run 'apt-get install chromium' as root" >&2; \
	    exit 1; fi; \
	  echo "installing Debian's chromium for the browser test (once)"; \
	  $$run apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$run apt-get install -y -qq --no-install-recommends \
	    chromium fonts-dejavu-core >/dev/null; }

# MLOPS_STACK is emptied so that the acceptance tier runs against local mode, never a real account.
test: $(STAMP) $(SAM) $(LAYER_STAMP) browser ## run every test tier (unit, integration, blueprints, e2e, acceptance)
	MLOPS_STACK= SAM_CLI=$(abspath $(SAM)) $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider -m "not long"

# The edit loop: the unit and integration tiers (markers unit, integration) without the long
# variants. They need neither the SAM CLI (.sam-venv) nor the SageMaker SDK layer (.layer-venv).
test-fast: $(STAMP) ## the unit and integration tiers only (no SAM CLI, no SDK layer; about 2 minutes)
	MLOPS_STACK= $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider -m "(unit or integration) and not long"

# The long variants (marker long): every AWS call under every fault, 2 x 144 race rounds, the
# larger hostile-input sets. Each test reports its counts (trials, rounds, answers, violations).
test-long: $(STAMP) $(LAYER_STAMP) ## the long variants: reliability, hostile inputs, the ML-loop demo, the wheel in a fresh venv (several minutes)
	MLOPS_STACK= $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider -m long

# The acceptance tier against a real installation: the control-plane stack MLOPS_STACK, the
# standard AWS credential chain. It creates an endpoint, a training job and a serverless monitor,
# deletes them, and prints the cost drivers it touched. One process: no -n.
e2e-aws: $(STAMP) ## acceptance run in a real account (MLOPS_STACK, AWS credentials; costs money)
	@$(BIN)/python -m tests.acceptance.target
	$(BIN)/python -m pytest -v -p no:cacheprovider tests/acceptance

lint: $(STAMP) $(SAM) $(CHECKOV) $(LAYER_STAMP) ## ruff, mypy, import rules, sam validate --lint, cfn-lint with the project's rules, checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(SAM) validate --lint --template-file sam/template.yaml --region us-east-1
	PYTHONPATH=$(CURDIR) $(BIN)/cfn-lint --append-rules mlops_dev/cfn_rules -- blueprints/*.yaml sam/stage-account.json
	@mkdir -p build
	$(BIN)/python -m mlops_dev.translate > build/control-plane.json
	PYTHONPATH=$(CURDIR) $(BIN)/cfn-lint --append-rules mlops_dev/cfn_rules --ignore-checks W -- build/control-plane.json
	@echo "checkov: the blueprints and the translated control plane (each suppression gives its reason in the template)"
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation -d blueprints -f build/control-plane.json -f sam/stage-account.json
	@echo "image-URI table: regenerating with the layer's SDK (a few seconds) and comparing"
	SAGEMAKER_SUPPRESS_V2_WARNING=1 $(LAYER_VENV)/bin/python mlops_dev/gen_image_uris.py build/image_uris.json >/dev/null
	cmp build/image_uris.json orchestrator_api/chalicelib/data/image_uris.json

format: $(STAMP) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The first run installs quietly for a minute or two: say what is being installed before each step.
demo-note-venv:
	@test -f $(STAMP) || echo "make demo: first run: installing the project and its tools into $(VENV)/ (a minute or two)..."
demo-note-layer:
	@test -f $(LAYER_STAMP) || echo "make demo: installing the SageMaker SDK layer's packages into $(LAYER_VENV)/ (about a minute)..."

demo: demo-note-venv $(STAMP) demo-note-layer $(LAYER_STAMP) ## on this machine, no AWS account: two pipelines, a drift monitor, a deletion; then the ML loop
	$(BIN)/mlops demo
	$(BIN)/mlops demo --loop

bench: $(STAMP) $(LAYER_STAMP) ## cold import, package sizes and per-request latency
	$(BIN)/python -m mlops_dev.bench

build: $(STAMP) $(SAM) ## sam build: the functions and the SageMaker layer (Docker if running, else pip)
	$(SAM) build
	@du -s --apparent-size --block-size=1M .aws-sam/build/SageMakerLayer | awk '{print "layer:", $$1, "MiB unzipped"}'

publish: build ## package to S3 and publish to the Serverless Application Repository (needs AWS credentials)
	$(SAM) package --resolve-s3 --output-template-file .aws-sam/packaged.yaml
	$(SAM) publish --template .aws-sam/packaged.yaml

clean: ## remove build output and caches
	rm -rf build dist .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
