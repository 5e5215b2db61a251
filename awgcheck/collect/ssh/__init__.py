"""The SSH transport, one module per job.

``connect`` opens a node (TCP, jump chain or ProxyCommand, the deadline's
watchdog); ``hop`` opens one hop (reach it, handshake, host key, auth);
``jumps`` shares one connection per bastion across a run; ``auth`` loads
keys and authenticates; ``hostkeys``
checks known_hosts; ``config`` resolves targets through ssh_config; ``sftp``
reads files; ``collector`` serves a node's reads and commands.

Import the module you need: this package imports none of them, so reading
ssh_config (``config``, ``ssh_config``) does not load paramiko.
"""
