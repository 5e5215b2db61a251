"""ssh arguments (Ansible's ansible_ssh_*_args) -> bastion chain and
known_hosts, checked against OpenSSH itself: ``ssh -G`` prints the
ProxyJump and UserKnownHostsFile it would use for the same arguments."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from awgcheck import ssh_args
from awgcheck.inventory import split_spec
from awgcheck.ssh_args import ArgsError, SshArgs

VAR = "var 'ansible_ssh_common_args'"


def _ssh_says(args: str) -> dict[str, str]:
    """What ``ssh -G`` resolves from ``args`` (no config file is read)."""
    done = subprocess.run(["ssh", "-G", "-F", "/dev/null", *shlex.split(args), "target"],
                          capture_output=True, text=True, timeout=30, check=True)
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


@pytest.mark.parametrize("args", [
    "-o ProxyJump=jump@bastion:2022",
    "-J a,b",
    "-J y -oProxyJump=x",
    "-qCoProxyJump=z",
    "-o 'ProxyJump hop.example'",
    "-o ProxyJump=x -o 'ProxyCommand=ssh -W %h:%p b'",
    "-p 2222 -i key -o StrictHostKeyChecking=no -o ProxyJump=ssh://u@h:7",
    "-C -o ControlMaster=auto",
    "-o ProxyJump=none",
    "-o UserKnownHostsFile=/etc/awgcheck/known_hosts -o UserKnownHostsFile=/tmp/other",
    "-o 'UserKnownHostsFile /srv/kh' -J b1,b2",
])
def test_ssh_args_agree_with_ssh(args: str) -> None:
    said = ssh_args.read([(VAR, args)])
    ssh = _ssh_says(args)
    # Hops compared as the transport reads them (ssh prints ssh://u@h:7 as u@h:7).
    ssh_hops = ssh["proxyjump"].split(",") if "proxyjump" in ssh else []
    assert [split_spec(h) for h in said.jump or ()] == [split_spec(h) for h in ssh_hops]
    set_here = "UserKnownHostsFile" in args
    assert said.known_hosts == (ssh["userknownhostsfile"] if set_here else None)


def test_ssh_args_proxy_command_first_wins_as_in_ssh() -> None:
    args = "-o 'ProxyCommand ssh -W %h:%p -q jump@b1' -o ProxyJump=b2"
    assert "proxyjump" not in _ssh_says(args)  # ssh keeps the ProxyCommand
    assert ssh_args.read([(VAR, args)]).jump == ("jump@b1",)


def test_ssh_args_parts_are_one_command_line() -> None:
    # Ansible runs ssh with ssh_args, then common args, then extra args.
    said = ssh_args.read([("a", "-o UserKnownHostsFile=/kh1"),
                          ("b", "-o ProxyJump=first -o UserKnownHostsFile=/kh2"),
                          ("c", "-J second")])
    assert said == SshArgs(("first",), "/kh1")
    assert ssh_args.read([]) == SshArgs()


@pytest.mark.parametrize(("command", "jump"), [
    ("ssh -W %h:%p bastion", ("bastion",)),
    ("ssh -W %h:%p -q audit@bastion", ("audit@bastion",)),
    ("/usr/bin/ssh -q -p 2200 -l audit -W [%h]:%p 2001:db8::1", ("audit@[2001:db8::1]:2200",)),
    ("ssh -l first -W %h:%p second@b", ("first@b",)),  # as in ssh, the first user wins
    ("ssh -J outer -W %h:%p -o StrictHostKeyChecking=no -o Port=2022 inner",
     ("outer", "inner:2022")),
    ("none", ()),
])
def test_ssh_args_proxy_command_of_ssh_w_is_a_jump(command: str,
                                                   jump: tuple[str, ...]) -> None:
    args = f"-o ProxyCommand={shlex.quote(command)}"
    assert ssh_args.read([(VAR, args)]).jump == jump


@pytest.mark.parametrize("command", [
    "nc -x proxy:1080 %h %p",
    "sshpass -p hunter2-secret ssh -W %h:%p bastion",
    "ssh bastion nc %h %p",
    "ssh -W %h:%p -i other_key bastion",
    "ssh -W %h:%p %r@bastion",
    "ssh -q bastion",
    "aws ssm start-session --target %h",
])
def test_ssh_args_other_proxy_commands_are_refused_without_quoting(command: str) -> None:
    with pytest.raises(ArgsError) as caught:
        ssh_args.read([(VAR, f"-o ProxyCommand={shlex.quote(command)}")])
    message = str(caught.value)
    assert message.startswith(f"{VAR} has a ProxyCommand awgcheck cannot follow")
    assert "hunter2" not in message and "%h" not in message.split("(")[0]


@pytest.mark.parametrize(("args", "message"), [
    ("-o 'ProxyJump=unclosed", "cannot be split into words"),
    ("-J", "option -J has no value"),
    ("-o ProxyJump=a,,b", "ProxyJump has no value, or an empty hop"),
    ("-o 'UserKnownHostsFile=/a /b'", "has a UserKnownHostsFile awgcheck cannot use"),
    ("-o UserKnownHostsFile=~/.ssh/kh_%h", "has a UserKnownHostsFile awgcheck cannot use"),
])
def test_ssh_args_errors_name_the_var(args: str, message: str) -> None:
    with pytest.raises(ArgsError, match=f"^{VAR} {message}"):
        ssh_args.read([(VAR, args)])
