# gunicorn settings shared by `make run` and production: `gunicorn -c config/gunicorn.conf.py 'app:create_app()'`.
# The access log never records the token of a signed link (/n/, /s/, /x/): see bot/web/security.py.
logger_class = "bot.web.security.RedactingAccessLogger"
worker_class = "gthread"
