"""An earlier version of the code beside the current one, for benchmarks that compare the two
in one run (on a shared machine, only figures measured side by side can be compared).

    with checkout("aa7ba5f") as tree:        # a temporary git worktree at that commit
        run_in(tree, ["-m", "bench.load.vote", "--votes", "2000"])

The worktree gets its translations compiled (they are not in git) and is removed at the end.
A command run in it imports that version's ``awards`` and ``bench`` packages: the current
virtualenv's editable install is found after the worktree on the path."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def describe(ref: str) -> str:
    """``<short hash> <subject>`` of a commit, for the report."""
    return _git("log", "-1", "--format=%h %s", ref)[:90]


@contextlib.contextmanager
def checkout(ref: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="awards-baseline-"))
    tree = folder / "tree"
    _git("worktree", "add", "--detach", str(tree), ref)
    try:
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run([str(pybabel), "compile", "-d", str(tree / "awards" / "translations")],
                       check=True, capture_output=True)
        yield tree
    finally:
        _git("worktree", "remove", "--force", str(tree))
        with contextlib.suppress(OSError):
            folder.rmdir()


def environment(tree: Path) -> dict[str, str]:
    """The environment a process needs to run the code of ``tree``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


def run_in(tree: Path, args: list[str], *, on_start=None,
           on_line=None) -> subprocess.CompletedProcess:
    """``python <args>`` with the code of ``tree``; its output is shown as it comes and
    returned. ``on_start(process)`` and ``on_line(line)`` follow the run."""
    process = subprocess.Popen([sys.executable, *args], cwd=tree, env=environment(tree),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if on_start is not None:
        on_start(process)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        print("    " + line, end="", flush=True)
        lines.append(line)
        if on_line is not None:
            on_line(line)
    process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(lines))
