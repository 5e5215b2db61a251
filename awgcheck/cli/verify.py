"""``awgcheck verify``: the post-install self-check, run on the node.

Reads the source (``--against`` a file, or ``-`` for what the installer
got from the API on stdin), this machine's conf and running interface, and
with ``--probe`` pings the hub through the tunnel; prints one line and
exits with the outcome's own code (docs/installer.md, docs/reports.md).
"""

from __future__ import annotations

import sys

import click

from awgcheck.cli.options import emit, format_option, load_rules, user_errors
from awgcheck.inventory import DEFAULT_CONF, DEFAULT_INTERFACE
from awgcheck.verify.render import FORMATS
from awgcheck.verify.run import DEFAULT_TIMEOUT, VerifyOptions, read_against
from awgcheck.verify.run import verify as run_verify
from awgcheck.verify.target import explicit


@click.command()
@click.option("--conf", "conf_path", default=DEFAULT_CONF, show_default=True, metavar="PATH",
              help="The conf the installer wrote.")
@click.option("--interface", default=DEFAULT_INTERFACE, show_default=True, metavar="NAME",
              help="The interface awg-quick brought up from it.")
@click.option("--against", metavar="SOURCE",
              help="What the server issued: a conf, a params document (epoch or registration "
                   "JSON/YAML), or - to read one on stdin. Without it the file is only "
                   "checked against the running interface and the shipped rules.")
@click.option("--probe", is_flag=True,
              help="Also ping the hub's mesh address through the tunnel and read handshake "
                   "age and rx growth.")
@click.option("--ping", "ping_addr", metavar="ADDR",
              help="The address --probe pings [default: the source conf's Address, else a "
                   "host route in the peer's AllowedIPs, else the first address of the "
                   "mesh network].")
@click.option("--timeout", type=click.FloatRange(1, 600), default=DEFAULT_TIMEOUT,
              show_default=True, help="Seconds the whole check may take.")
@format_option(FORMATS, help="text: one line (more when something is wrong); json for "
                             "scripts.")
@user_errors
def verify(conf_path: str, interface: str, against: str | None, probe: bool,
           ping_addr: str | None, timeout: float, fmt: str) -> None:
    """Check this node after an install: the conf against the source, the
    running interface against the conf, and (--probe) traffic through the
    tunnel. Reads the interface with the local awg, through sudo -n when
    not root.

    \b
    Exit codes:
       0  everything agrees (and the probe got replies)
       2  usage error
       4  could not check (no conf, no source or one that fails its own
          rules, awg unreadable, nothing to ping)
      10  drift: the conf differs from the source or breaks a shipped rule
      11  not applied: the conf is right, the interface runs other values
      12  no traffic: params agree, but the ping got no reply
    """
    options = VerifyOptions(conf_path, interface, probe,
                            explicit(ping_addr) if ping_addr is not None else None, timeout)
    source = read_against(against, sys.stdin.buffer)
    report = run_verify(source, options, load_rules(()))
    emit(FORMATS.render(fmt, report), None)
    sys.exit(report.exit_code())
