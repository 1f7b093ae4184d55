"""One style for every `mlnb COMMAND --help` (the rules are written in nbs/98_cli.ipynb): walks every command and
subcommand parser, in-process (no TensorFlow is imported to build a parser, so this takes about a second)."""
from __future__ import annotations
import argparse, contextlib, io, re

import pytest

from mlnb.cli import COMMANDS, build_parser, main

SAME_NAME = {"--workspace": ["-w", "--workspace"], "--output": ["-o", "--output"], "--param": ["-p", "--param"]}
# one meaning whose object differs by command, named by the placeholder: what is resumed (RUN_ID, SWEEP_ID), what is
# compared with (a MODEL, a SPAN), the parameter set (a pipeline's STEP.NAME=VALUE, a notebook's NAME=VALUE)
ONE_PER_KIND = {"--resume", "--baseline", "--param"}


def walk() -> list[tuple[str, argparse.ArgumentParser]]:
    "Every (command line, parser): `mlnb COMMAND` and each of its subcommands (an alias once)."
    out = []
    def visit(p, path):
        out.append((path, p))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                seen = set()
                for name, sp in a.choices.items():
                    if id(sp) not in seen: seen.add(id(sp)); visit(sp, f"{path} {name}")
    for name in COMMANDS: visit(build_parser(name), f"mlnb {name}")
    return out


PARSERS = walk()


def visible(p) -> list[argparse.Action]:
    return [a for a in p._actions if a.help != argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]


def metavar(a:argparse.Action) -> str:
    "The placeholder argparse prints for an argument."
    if a.metavar is not None: return a.metavar if isinstance(a.metavar, str) else " ".join(a.metavar)
    if a.choices is not None: return "{" + ",".join(map(str, a.choices)) + "}"
    return a.dest.upper() if a.option_strings else a.dest


def takes_value(a) -> bool:
    return not a.option_strings or a.nargs != 0


def problems(path:str, p:argparse.ArgumentParser) -> list[str]:
    "What in one parser's help breaks the style."
    out = []
    if not (p.description or "").strip(): out.append(f"{path}: no description")
    leaf = not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)
    if leaf:
        epilog = p.epilog or ""
        if "exit status: 0 " not in epilog or "2 on a usage or input error" not in epilog:
            out.append(f"{path}: the help does not end with its exit status (0 ..., 2 on a usage or input error)")
    for a in visible(p):
        name = "/".join(a.option_strings) or metavar(a)
        if isinstance(a, argparse._SubParsersAction):  # ACTION: each subcommand has its one-line help
            out += [f"{path} {c.dest}: no help" for c in a._choices_actions if not (c.help or "").strip()]
        elif not (a.help or "").strip(): out.append(f"{path} {name}: no help")
        elif a.help.rstrip().endswith("."): out.append(f"{path} {name}: help ends with a period")
        if takes_value(a):
            mv = re.sub(r"\[[^\]]*\]", "", metavar(a))
            if mv.startswith("{") or mv != mv.upper():
                out.append(f"{path} {name}: placeholder {metavar(a)!r} is not upper case")
        shorts = [o for o in a.option_strings if not o.startswith("--")]
        if shorts and a.option_strings[0] not in shorts: out.append(f"{path} {name}: the short option comes first")
        for long, strings in SAME_NAME.items():
            if (long in a.option_strings or strings[0] in a.option_strings) and a.option_strings != strings:
                out.append(f"{path} {name}: expected {', '.join(strings)}")
        if "--json" in a.option_strings and not ((a.help or "").startswith("print") and "JSON" in a.help):
            out.append(f"{path} --json: help should say 'print ... JSON ...'")
        quiet = a.default is None or a.default is False or a.default == argparse.SUPPRESS or not takes_value(a)
        if not quiet and "(default: " not in (a.help or ""): out.append(f"{path} {name}: default {a.default!r} not written (default: X)")
    return out


def test_every_help_follows_the_style():
    found = [msg for path, p in PARSERS for msg in problems(path, p)]
    assert found == [], "\n".join(found)


def test_one_option_one_meaning():
    "A long option has one placeholder across commands (`--threshold` is only `mlnb model bless`'s RULE)."
    seen = {}
    for path, p in PARSERS:
        for a in visible(p):
            for o in a.option_strings:
                if o.startswith("--") and takes_value(a) and o not in ONE_PER_KIND:
                    seen.setdefault(o, {}).setdefault(re.sub(r"\[[^\]]*\]", "", metavar(a)), []).append(path)
    mixed = {o: by for o, by in seen.items() if len(by) > 1}
    assert mixed == {}, mixed
    assert [path for path, p in PARSERS for a in visible(p) if "--threshold" in a.option_strings] == ["mlnb model bless"]


@pytest.mark.parametrize("argv, expected", [
    (["validate", "--help"], "1 when anomalies are found"),
    (["schema", "diff", "--help"], "1 when they differ"),
    (["model", "bless", "--help"], "1 when the candidate is not blessed"),
    (["runs", "show", "--help"], "RUN_ID a run id"),
    (["stats", "--help"], "--backend BACKEND"),
])
def test_the_issue_s_examples(argv, expected):
    "The help texts issue 13 found wanting: exit 1 documented, RUN_ID and --backend described."
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0 and expected in " ".join(out.getvalue().split()), out.getvalue()


def test_top_level_help_lists_the_exit_codes():
    out = io.StringIO()
    with contextlib.redirect_stdout(out): assert main(["--help"]) == 0
    text = " ".join(out.getvalue().split())
    assert "`mlnb COMMAND --help` describes one command" in text and "2 on a usage or input error" in text and "130" in text
