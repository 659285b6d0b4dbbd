# One image for web, worker, scheduler and migrate; only the command differs:
#   web:       (default) gunicorn -c config/gunicorn.conf.py project.wsgi
#   worker:    python manage.py rundramatiq
#   scheduler: python manage.py crontab --no-heartbeat
#   migrate:   python manage.py migrate --no-input
# Build: docker build -t headroom .   Lint: ./scripts/docker-lint   (docs/deploy.md)

# Stage 1: the locked dependencies in a virtualenv; compilers and caches stay in this stage.
FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.lock

# Stage 2: the runtime: the virtualenv, the code, the collected static files.
FROM python:3.12-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=project.settings VAR_DIR=/app/var
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build /venv /venv
# The code belongs to root: the app process can read it, not change it.
COPY . .
# Static files are collected at build time; whitenoise serves them with hashed names.
# REDIS_URL is a placeholder so that settings do not start the embedded Redis during the build.
RUN REDIS_URL=redis://build-placeholder:6379/0 python manage.py collectstatic --no-input \
    && chown -R 10001:10001 /app/var
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "project.wsgi"]
