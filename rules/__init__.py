"""The shipped rule catalog, installed as ``awgcheck.catalog`` (data only)."""
