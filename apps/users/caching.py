"""What of users is cached. Read by project/caching/declarations.py; docs/caching.md explains the caches."""

# Manual only (.cache() on narrow querysets, selectors.user_profile): a full row carries the password hash.
QUERY_CACHE = {
    "users.user": {"ops": (), "timeout": 5 * 60},
}
