"""The SSH transport, one module per job.

``connect`` opens a node (TCP, jump chain or ProxyCommand, handshake, the
deadline's watchdog); ``auth`` loads keys and authenticates; ``hostkeys``
checks known_hosts; ``config`` resolves targets through ssh_config; ``sftp``
reads files; ``collector`` serves a node's reads and commands.

Import the module you need: this package imports none of them, so reading
ssh_config (``config``, ``ssh_config``) does not load paramiko.
"""
