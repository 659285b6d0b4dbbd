"""Where a job starts and what every message carries: the broker's middleware (job log, read-your-
writes for jobs, the outbox relay at worker boot). The schedule is ``project/tasks.py``; each app's
jobs are in its ``actors.py``."""
