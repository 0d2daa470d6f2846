"""The README's code blocks work as written: every Python block runs, every `metarec ...` command line parses.

The command-line check runs on the other user documents too (docs/, the knowledge base's and the example
plugins' READMEs): each `metarec ...` line names a real command and only options that command has.
"""

import os
import re
import shlex
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "knowledge_base" / "README.md",
             *sorted(ROOT.glob("plugins/*/README.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLI = "import sys; from metarec.cli import main; sys.argv[0] = 'metarec'; main(sys.argv[1:])"


def blocks(lang: set[str], doc: Path = README) -> list[str]:
    return [code for kind, code in FENCE.findall(doc.read_text()) if kind in lang]


def env() -> dict[str, str]:
    e = dict(os.environ, METAREC_DISABLE_PLUGIN_AUTOLOAD="1", COLUMNS="120")
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return e


def _python_cases():
    for i, code in enumerate(blocks({"python"})):
        slow = any(s in code for s in ("metarec.tune(", "AutoClassifier(", "metarec.recommend("))
        yield pytest.param(code, id=f"block{i}", marks=[pytest.mark.slow] if slow else [])


def test_readme_is_short():
    n = len(README.read_text().splitlines())
    assert n <= 200, f"README.md has {n} lines; the detail belongs in docs/"


def test_readme_has_python_and_command_blocks():
    assert len(blocks({"python"})) >= 2
    assert commands(), "no `metarec ...` command found in README"


@pytest.mark.parametrize("code", list(_python_cases()))
def test_python_block_runs(code, tmp_path):
    # from a directory like the repository root: the example data is there, the files it writes land in tmp
    (tmp_path / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    if "def register_learners(" in code:  # a plugin module: import it, call its hook, check what it hands in
        code += ("\ngot = []\nregister_learners(got.append)\n"
                 "from metarec.testing import check_learner\nfor learner in got:\n    check_learner(learner)\n"
                 "assert got, 'the hook registered nothing'\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env(), capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, f"README block failed:\n{code}\n--- stderr ---\n{r.stderr[-4000:]}"


def commands(doc: Path = README) -> list[list[str]]:
    """Every `metarec ...` command of a document's shell/console/text blocks, as argv after `metarec`."""
    out = []
    for code in blocks({"bash", "console", "text", "sh", "shell", ""}, doc):
        for line in code.replace("\\\n", " ").splitlines():
            line = re.sub(r"\$\([^)]*\)", "SPEC", line.strip().removeprefix("$ "))  # $(...) -> an argument
            for part in re.split(r"&&|\||;", line):
                part = part.strip()
                if part.startswith("metarec "):
                    words = shlex.split(part.split(" #")[0])
                    out.append(words[1:])
    return out


@lru_cache(maxsize=None)
def help_text(path: tuple[str, ...]) -> str:
    r = subprocess.run([sys.executable, "-c", CLI, *path, "--help"], env=env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, f"`metarec {' '.join(path)} --help` failed: {r.stderr}"
    return r.stdout


def subcommands(path: tuple[str, ...]) -> set[str]:
    text = help_text(path)
    if "Commands:" not in text:
        return set()
    return {m.group(1) for m in re.finditer(r"^  (\S+)", text.split("Commands:", 1)[1], re.MULTILINE)}


def _command_cases():
    for doc in DOCUMENTS:
        for argv in commands(doc):
            yield pytest.param(argv, id=f"{doc.relative_to(ROOT)}: {' '.join(argv)[:60]}")


@pytest.mark.parametrize("argv", list(_command_cases()))
def test_command_line_parses(argv):
    path: tuple[str, ...] = ()
    for word in argv:
        if word in subcommands(path):
            path += (word,)
        else:
            break
    assert path or argv == ["--help"], f"`metarec {' '.join(argv)}`: no such command"
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text(path)))
    used = [w.split("=", 1)[0] for w in argv[len(path):] if w.startswith("--")]
    unknown = [o for o in used if o not in options]
    assert not unknown, f"`metarec {' '.join(argv)}`: `metarec {' '.join(path)}` has no option {unknown}"
