# gunicorn settings shared by `make run` and production: `gunicorn -c config/gunicorn.conf.py 'app:create_app()'`.
# The access log never records the token of a signed link (/n/, /s/, /x/): see bot/web/security.py.
logger_class = "bot.web.security.RedactingAccessLogger"
worker_class = "gthread"

# The app and the classifier (jieba's dictionary ~60 MB, lexicons, learned weights) are built once in
# the master; the forked workers share those pages copy-on-write (docs/classifier.md "Speed and
# memory": per worker ~11 MB private after classifying, instead of ~110 MB). Consequence: new
# code, lexicons or learned weights need a restart of gunicorn itself (or USR2), not a HUP.
preload_app = True


def when_ready(server):
    """Load the classifier in the master before the workers fork, and freeze what is loaded.

    gc.freeze() keeps the cycle collector of each worker from writing to (and so copying) the
    objects built before the fork.
    """
    import gc

    from handlers.classifier import get_classifier

    get_classifier()
    gc.collect()
    gc.freeze()
