# One image for web, worker and migrate; only the command differs:
#   web:     (default) gunicorn -c config/gunicorn.conf.py project.wsgi
#   worker:  python manage.py rundramatiq
#   migrate: python manage.py migrate --no-input
# Build: docker build -t headroom .

FROM python:3.12-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.lock .
RUN python -m venv /venv && /venv/bin/pip install --require-hashes -r requirements.lock

FROM python:3.12-slim
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=project.settings VAR_DIR=/app/var
RUN useradd --create-home --uid 10001 app
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=app:app . .
# Static files are collected at build time; whitenoise serves them with hashed names.
# REDIS_URL is a placeholder so that settings do not start the embedded Redis during the build.
RUN REDIS_URL=redis://build-placeholder:6379/0 python manage.py collectstatic --no-input \
    && chown -R app:app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "project.wsgi"]
