"""Finding a script's heredocs the way bash reads them, and reading the
conf-looking ones as templates at the script's line numbers."""

from __future__ import annotations

import pytest

from awgcheck.errors import ParseError
from awgcheck.parse import heredoc

# (script, [(operator line, first body line, body, delimiter, quoted, strip_tabs)])
CASES = {
    "plain": ("cat > f <<EOF\na\nb\nEOF\nrest\n", [(1, 2, ("a", "b"), "EOF", False, False)]),
    "operator-first": ("cat <<EOF > f\na\nEOF\n", [(1, 2, ("a",), "EOF", False, False)]),
    "space-before-word": ("tee f << END\na\nEND\n", [(1, 2, ("a",), "END", False, False)]),
    "single-quoted": ("cat <<'EOF'\n$x\nEOF\n", [(1, 2, ("$x",), "EOF", True, False)]),
    "double-quoted": ('cat <<"EOF"\n$x\nEOF\n', [(1, 2, ("$x",), "EOF", True, False)]),
    "backslash": ("cat <<\\EOF\n$x\nEOF\n", [(1, 2, ("$x",), "EOF", True, False)]),
    "partly-quoted": ("cat <<E'O'F\nx\nEOF\n", [(1, 2, ("x",), "EOF", True, False)]),
    "dash-strips-tabs": ("\tcat <<-EOF\n\t\ta\n  b\n\tEOF\n",
                         [(1, 2, ("a", "  b"), "EOF", False, True)]),
    "no-dash-keeps-tabs": ("cat <<EOF\n\ta\n\tEOF\nEOF\n",
                           [(1, 2, ("\ta", "\tEOF"), "EOF", False, False)]),
    "two-on-one-line": ("cat <<A <<-B\na\nA\n\tb\n\tB\n",
                        [(1, 2, ("a",), "A", False, False), (1, 4, ("b",), "B", False, True)]),
    "unterminated-runs-to-end": ("cat <<EOF\na\nEOF \n", [(1, 2, ("a", "EOF "), "EOF", False,
                                                          False)]),
    "continued-command": ("cat <<EOF \\\n  > f\na\nEOF\n", [(1, 3, ("a",), "EOF", False,
                                                               False)]),
    "in-command-substitution": ("CONF=$(cat <<EOF\na\nEOF\n)\n",
                                [(1, 2, ("a",), "EOF", False, False)]),
    "body-is-not-scanned": ("cat <<EOF\ncat <<X\nEOF\n", [(1, 2, ("cat <<X",), "EOF", False,
                                                         False)]),
    "here-string": ("cat <<<EOF\nEOF\n", []),
    "arithmetic-shift": ("x=$((1 << 2))\n(( y <<= 1 ))\n", []),
    "in-quotes": ("echo \"a <<EOF\" 'b <<EOF'\nEOF\n", []),
    "quote-across-lines": ("echo \"a\n<<EOF\"\nEOF\n", []),
    "comment": ("# cat <<EOF\necho x # <<EOF\nEOF\n", []),
}


@pytest.mark.parametrize("script,expected", CASES.values(), ids=CASES.keys())
def test_heredocs_found_as_bash_reads_them(
        script: str, expected: list[tuple[int, int, tuple[str, ...], str, bool, bool]]) -> None:
    found = [(h.line, h.start, tuple(b.decode() for b in h.body), h.delimiter, h.quoted,
              h.strip_tabs) for h in heredoc.heredocs(script.encode())]
    assert found == expected


@pytest.mark.parametrize("text,script", [
    ("#!/bin/sh\necho hi\n", True),
    ("set -e\ncat <<EOF\n[Interface]\nEOF\n", True),
    ("[Interface]\nPrivateKey = $(cat key)\nS4 = {{ s4 }}\n", False),
    ("# a conf template\n[Interface]\nI1 = <b 0xf6ab3267fa><r 16>\n", False),
], ids=["shebang", "heredoc", "conf-template", "i1-angle-brackets"])
def test_heredoc_looks_like_script(text: str, script: bool) -> None:
    assert heredoc.looks_like_script(text.encode()) is script


SCRIPT = b"""#!/bin/sh
KEY=/etc/key
cat > /etc/motd <<EOF
hello $USER
EOF
cat > awg0.conf <<EOF
  [Interface] # the server
PrivateKey = $(cat "$KEY")
Jc = `echo 4`
S3 = \\$S3
S4 = 17
EOF
"""


def test_heredoc_parse_templates_keeps_script_lines_and_expansions() -> None:
    [(doc, conf)] = heredoc.parse_templates(SCRIPT, "install.sh")
    assert (doc.line, doc.start) == (6, 7)
    assert [(e.line, e.key, e.placeholder) for e in conf.entries] == [
        (8, "PrivateKey", True), (9, "Jc", True), (10, "S3", False), (11, "S4", False)]
    assert [(e.name, e.effective) for e in conf.entries][-1] == ("S4", "17")
    assert conf.facts.final_newline and conf.path == "install.sh"


def test_heredoc_parse_templates_quoted_delimiter_expands_nothing() -> None:
    script = SCRIPT.replace(b"awg0.conf <<EOF", b"awg0.conf <<'EOF'")
    [(_, conf)] = heredoc.parse_templates(script, "install.sh")
    assert [e.placeholder for e in conf.entries] == [False] * 4
    assert "setconf-reject" in {d.code for d in conf.diagnostics if d.location.line == 8}


def test_heredoc_parse_templates_engine_tags_stay_placeholders_when_quoted() -> None:
    script = b"cat <<'EOF'\n[Interface]\nS4 = {{ s4 }}\nEOF\n"
    [(_, conf)] = heredoc.parse_templates(script, "install.sh.j2")
    assert [e.placeholder for e in conf.entries] == [True]


def test_heredoc_parse_templates_without_a_conf_heredoc_raises() -> None:
    with pytest.raises(ParseError, match=r"install\.sh: no conf template found in this script"):
        heredoc.parse_templates(SCRIPT.split(b"cat > awg0")[0], "install.sh")
