import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# Django, behind the response cache's hits (project/caching/wsgi_front.py): a hit is answered
# before Django's handler, middleware and URL resolution; everything else reaches Django as is.
django_application = get_wsgi_application()

from project.caching.wsgi_front import wrap  # noqa: E402  # after setup: it reads settings and URLs

application = wrap(django_application)
