"""The web server's edges: gunicorn's response writes and JSON access log, static files with long
cache lives, and media on shared (S3) storage from stage 3b."""
