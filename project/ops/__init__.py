"""What an operator asks of a running kit: is it ready (``readiness``), what did a request cost
(``server_timing``), did code load rows one by one (``n_plus_one``, development and tests), and
which scaling step is needed now (``doctor``, `manage.py doctor`), and all of it on one page for staff
(``views``, /ops/: ``overview`` over ``minute_buckets``, the request counters of the last hour)."""
