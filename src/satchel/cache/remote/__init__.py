"""The remote tier of the cache: a shared object store behind the local cache (issue 14).

``config`` is light (no third-party imports) and may be imported anywhere in the cache layer;
``tier``, ``backend`` and ``manage`` are imported only when a remote is configured and needed.
"""
