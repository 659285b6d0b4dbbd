"""What of users is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# No queryset of either is cached (ops: a full user row carries the password hash). The profiles are
# what makes cacheops invalidate on their writes: the sign-in check of every API request
# (selectors.api_tokens_with_key, apps/users/authentication.py) is cached with apps/core/query_cache.py,
# and every save or delete of a token or a user drops it at once.
QUERY_CACHE = {
    "users.user": {"ops": (), "timeout": 5 * 60},
    "users.apitoken": {"ops": (), "timeout": 5 * 60},
}

# GET /users/me/ is the profile of the token's user, read with the token (AUTH_USER_COLUMNS): each
# web process answers a repeat with a token from its copy, before Django runs, once the token check
# passed from the query cache (project/caching/signed_in_front.py).
SIGNED_IN_RESPONSE_CACHE = ("v1:me",)
