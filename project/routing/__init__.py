"""Stage 3, where a read is routed: the primary for writes and transactions, a healthy replica
that has replayed the client's last write for everything else (``routers``, ``read_your_writes``)."""
