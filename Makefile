# Lianxin: `make run` tries the bot locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app app
HOST ?= 127.0.0.1
PORT ?= 8000
# make run is a demo: the 回访 follows 办结 after DEMO_CALLBACK_MINUTES (production default: 60) and
# the scheduler sweeps every minute, so someone trying the bot sees the whole loop in minutes;
# links in messages (downloads, confirm pages) point at the port it runs on.
DEMO_CALLBACK_MINUTES ?= 2
DEMO_ENV := LIANXIN_SCHEDULER_CALLBACK_DELAY_MINUTES=$(DEMO_CALLBACK_MINUTES) LIANXIN_SCHEDULER_SWEEP_MINUTES=1 \
	LIANXIN_APP_BASE_URL=http://$(HOST):$(PORT)

.PHONY: run test venv lint bench clean-demo

venv: $(VENV)/.installed

# The development venv has the run-time packages and the test tools (production: requirements.txt only).
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The simulator serves the demo schools only and is off by default (never in production).
run: export LIANXIN_SIMULATOR_ENABLED = true
run: venv
	$(FLASK) init-db
	$(FLASK) seed-demo
	@echo ""
	@echo "连心已启动：模拟器 http://$(HOST):$(PORT)/simulator （Ctrl-C 退出）"
	@echo "终端聊天：$(FLASK) chat --as 张小明妈妈"
	@echo "演示设置：办结 $(DEMO_CALLBACK_MINUTES) 分钟后回访（正式部署默认 60 分钟），定时任务每分钟检查一次"
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	env $(DEMO_ENV) $(FLASK) scheduler & \
	env $(DEMO_ENV) $(VENV)/bin/gunicorn -c config/gunicorn.conf.py --workers 2 --threads 4 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

test: venv
	$(PY) -m pytest -q

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) bench/classify.py
