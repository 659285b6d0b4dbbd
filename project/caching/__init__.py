"""Stage 1 onward, what is cached and how it stays true: the response cache for anonymous reads,
cacheops' query cache and the guard against stale fills, one invalidation signal for both, the
Redis circuit breaker, and the embedded Redis that stage 1 runs on."""
