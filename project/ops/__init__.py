"""What an operator asks of a running kit: is it ready (``readiness``), what did a request cost
(``server_timing``), and did code load rows one by one (``n_plus_one``, development and tests)."""
