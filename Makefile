# Two commands from a fresh clone: `make run` and `make test`. Everything else is set up here.
VENV   := .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
PORT   ?= 5000
WORKERS ?= 2

.PHONY: run test test-fast lint bench clean messages translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# A random key, readable only by its owner, made once on first start.
instance/secret_key: | $(BIN)/python
	mkdir -p instance
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_hex(32))" > $@

# Translations (translations/<language>/LC_MESSAGES/messages.po; README "Translations").
# Marked for translation: _, gettext, ngettext, pgettext and N_ (Babel's defaults), and _l and
# lazy_gettext (the forms). tests/test_translations.py extracts with these same keywords.
BABEL := $(BIN)/pybabel
BABEL_KEYWORDS := -k _l -k lazy_gettext
CATALOGUES := $(wildcard translations/*/LC_MESSAGES/messages.po)

# Collect every marked string, then add the new and changed ones to each language's .po (to be
# translated there: the tests fail while any is untranslated or fuzzy).
messages: $(VENV)/.installed
	$(BABEL) -q extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file \
		--project=screening --copyright-holder="the screening authors" \
		-o translations/messages.pot .
	$(BABEL) -q update -i translations/messages.pot -d translations --ignore-obsolete \
		--previous --ignore-pot-creation-date

# The compiled catalogues the app reads (made here, never committed).
translations: $(CATALOGUES:.po=.mo)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BABEL) -q compile --locale $* -i $< -o $@

run: $(VENV)/.installed instance/secret_key translations
	$(FLASK) db upgrade
	$(FLASK) drafts purge
	$(FLASK) users ensure-admin
	@echo "Serving on http://127.0.0.1:$(PORT)/ (clinicians: http://127.0.0.1:$(PORT)/clinician/)"
	# No access log: resume links carry a secret token in their path.
	SCREENING_SESSION_COOKIE_SECURE=false $(BIN)/gunicorn --workers $(WORKERS) \
		--bind 127.0.0.1:$(PORT) app:app

# Browser tests run when Debian's Chromium is installed, deployment tests (nginx in front of
# two app servers, the systemd units) when nginx, openssl and systemd-analyze are (CI
# installs them all); otherwise each group is left out, with a line saying so.
CHROMIUM := /usr/bin/chromium
DEPLOY_TOOLS := nginx openssl systemd-analyze

test: $(VENV)/.dev-installed translations
	@markers=""; \
	if [ ! -x $(CHROMIUM) ]; then \
		echo "Chromium not found at $(CHROMIUM): browser tests left out (apt-get install chromium)"; \
		markers="not browser"; \
	fi; \
	missing=$$(for tool in $(DEPLOY_TOOLS); do \
		PATH="$$PATH:/usr/sbin:/sbin" command -v $$tool >/dev/null || printf '%s ' $$tool; done); \
	if [ -n "$$missing" ]; then \
		echo "Not found: $$missing- deployment tests left out (apt-get install nginx openssl systemd)"; \
		markers="$${markers:+$$markers and }not deploy"; \
	fi; \
	$(BIN)/pytest $${markers:+-m "$$markers"} $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/bandit -q -c pyproject.toml -r screening app.py --severity-level medium

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache instance/static-compressed
