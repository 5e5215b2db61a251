"""``awgcheck verify``: the post-install self-check, run on the node itself.

The file against the source (the shipped rules and triage's rows), the
running interface against the file (the local ``awg``, one reader for SSH
and this machine), with ``--probe`` a ping through the tunnel; one line
and one exit code per outcome, for an installer to act on.
"""
