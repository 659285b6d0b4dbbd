"""How long browsers and CDNs keep the static files that whitenoise serves.

collectstatic (the manifest storage) writes each file twice: under its own name
(css/site.css) and under a name with a hash of its content (css/site.47d7f900249c.css),
which the pages link. A hashed name never changes content, so it is cached for a year and
never revalidated. A name without a hash keeps whitenoise's short WHITENOISE_MAX_AGE.
"""

from __future__ import annotations

from wsgiref.headers import Headers

ONE_YEAR_SECONDS = 365 * 24 * 60 * 60
HASHED_FILE_CACHE_CONTROL = f"max-age={ONE_YEAR_SECONDS}, immutable"


def cache_hashed_files_for_a_year(headers: Headers, path: str, url: str) -> None:
    """WHITENOISE_ADD_HEADERS_FUNCTION, run once per file at startup after whitenoise's own headers.

    whitenoise marks hashed files immutable with a ten-year max-age; a year is the longest
    max-age HTTP/1.1 ever defined, and what CDNs and audits expect.
    """
    if "immutable" in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = HASHED_FILE_CACHE_CONTROL
