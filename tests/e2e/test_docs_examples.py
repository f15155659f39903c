"""Every example in README.md, bench/README.md and docs/*.md runs as written.

Each fenced ```sh block is one test case, run with bash (set -euo pipefail) in a temporary
folder per document, with `reclaim` on PATH, the repository's `scripts/` and `bench/` linked there, and the demo data (`reclaim synth --out data`)
already there, unless the document's first example that runs makes it (reclaim refuses to replace
outputs without --overwrite, and README.md starts in an empty folder). The blocks of one document run in order in the same folder, so an example can
use what an earlier one wrote. A fenced block of another language preceded by
`<!-- file: NAME -->` is written to NAME before the next sh block runs, so a job or rules file
shown in a page is the one its example uses. `<!-- example: skip REASON -->` before a block
skips it (REASON is printed); keep that for blocks that truly cannot run here.
"""
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Shell fences that would escape the runner if they were used; examples must be tagged `sh`.
OTHER_SHELL_TAGS = {"bash", "shell", "console", "zsh", "shell-session"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
COMMENT = re.compile(r"^\s*<!--\s*(?P<body>.*?)\s*-->\s*$")
BLOCK_TIMEOUT_S = 120


@dataclass
class Block:
    doc: str            # the document's path relative to the repository (or a test's name)
    line: int           # 1-based line of the opening fence
    lang: str
    text: str
    directive: str = ""  # the HTML comment just before the fence, if any


@dataclass
class Example:
    """One sh block, with the files shown since the previous sh block and its skip reason."""
    block: Block
    files: list = field(default_factory=list)   # [(name, text)]
    skip: str | None = None

    @property
    def id(self):
        return f"{self.block.doc}:{self.block.line}"


def parse_blocks(markdown, doc):
    """Every fenced block of a markdown text, with the HTML comment (if any) right before it."""
    blocks = []
    lines = markdown.splitlines()
    last_comment, i = "", 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if not m:
            c = COMMENT.match(line)
            if c:
                last_comment = c.group("body")
            elif line.strip():
                last_comment = ""
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        body, j = [], i + 1
        while j < len(lines):
            close = lines[j].strip()
            if close.startswith(fence[0] * len(fence)) and close.strip(fence[0]) == "":
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j].lstrip())
            j += 1
        blocks.append(Block(doc, i + 1, m.group("info").lower(), "\n".join(body) + "\n", last_comment))
        last_comment, i = "", j + 1
    return blocks


def collect_examples(markdown, doc):
    """The sh blocks of a document as Examples; raises ValueError on a misplaced directive."""
    examples, pending = [], []
    for b in parse_blocks(markdown, doc):
        directive = b.directive
        if directive.startswith("file:"):
            if b.lang == "sh":
                raise ValueError(f"{doc}:{b.line}: <!-- {directive} --> before a sh block (examples are run, not written)")
            name = directive[len("file:"):].strip()
            if not name or os.path.isabs(name) or ".." in Path(name).parts:
                raise ValueError(f"{doc}:{b.line}: bad file name in <!-- {directive} -->")
            pending.append((name, b.text))
            continue
        if b.lang != "sh":
            if directive.startswith("example:"):
                raise ValueError(f"{doc}:{b.line}: <!-- {directive} --> before a {b.lang or 'plain'} block")
            continue
        skip = None
        if directive.startswith("example:"):
            words = directive[len("example:"):].split(None, 1)
            if not words or words[0] != "skip" or len(words) < 2:
                raise ValueError(f"{doc}:{b.line}: expected <!-- example: skip REASON -->, got <!-- {directive} -->")
            skip = words[1]
        examples.append(Example(b, pending, skip))
        pending = []
    if pending:
        raise ValueError(f"{doc}: file {pending[0][0]} is shown after the last sh block: no example uses it")
    return examples


class Workspace:
    """A temporary folder with `reclaim` on PATH and the demo data, shared by one document."""

    def __init__(self, reclaim_bin, root, synth=True):
        self.dir = Path(root)
        bin_dir = self.dir / ".bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        (bin_dir / "reclaim").symlink_to(os.path.abspath(reclaim_bin))
        # The repository's scripts, as a user running from the checkout has them (scripts/slurm/...).
        (self.dir / "scripts").symlink_to(ROOT / "scripts")
        (self.dir / "bench").symlink_to(ROOT / "bench")  # bench/run, as in the checkout
        self.env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
        self.failed = None
        if synth:
            self.run("reclaim synth --out data >/dev/null\n")

    def run(self, script):
        return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=self.dir, env=self.env,
                              capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S, check=False)

    def run_example(self, ex):
        """Writes the example's files, runs it; returns None on success, else a failure message."""
        for name, text in ex.files:
            path = self.dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        proc = self.run(ex.block.text)
        if proc.returncode == 0:
            return None
        return (f"{ex.id}: the example exited {proc.returncode}\n"
                f"--- command (run with bash, set -euo pipefail, in {self.dir}) ---\n{ex.block.text}"
                f"--- stderr ---\n{proc.stderr[-4000:]}"
                f"--- stdout (tail) ---\n{proc.stdout[-1500:]}")


def _document_examples():
    out = []
    for path in DOCUMENTS:
        out += collect_examples(path.read_text(), str(path.relative_to(ROOT)))
    return out


EXAMPLES = _document_examples()


def makes_demo_data(example):
    return example.block.text.lstrip().startswith("reclaim synth --out data ")


@pytest.fixture(scope="module")
def workspaces(reclaim_bin):
    made, dirs = {}, []

    def get(doc):
        if doc not in made:
            d = tempfile.mkdtemp(prefix="reclaim-docs-")
            dirs.append(d)
            first = next(e for e in EXAMPLES if e.block.doc == doc and not e.skip)
            made[doc] = Workspace(reclaim_bin, d, synth=not makes_demo_data(first))
        return made[doc]

    yield get
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(ex, workspaces):
    if ex.skip:
        pytest.skip(f"{ex.id}: marked in the document: {ex.skip}")
    ws = workspaces(ex.block.doc)
    failure = ws.run_example(ex)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_every_shell_block_is_collected():
    """A ```sh block the runner does not see (or a shell block tagged otherwise) fails here."""
    for path in DOCUMENTS:
        text, doc = path.read_text(), str(path.relative_to(ROOT))
        opened = [i + 1 for i, l in enumerate(text.splitlines())
                  if re.match(r"^\s*(`{3,}|~{3,})\s*sh\s*$", l, re.IGNORECASE)]
        collected = [e.block.line for e in EXAMPLES if e.block.doc == doc]
        assert collected == opened, f"{doc}: sh fences at lines {opened}, collected {collected}"
        for b in parse_blocks(text, doc):
            assert b.lang not in OTHER_SHELL_TAGS, \
                f"{doc}:{b.line}: a ```{b.lang} block is not run; tag examples ```sh"
    assert any(e.block.doc == "README.md" for e in EXAMPLES), "README.md has no examples"


def test_skipped_examples_are_rare():
    skipped = [f"{e.id}: {e.skip}" for e in EXAMPLES if e.skip]
    print("\nskipped examples:\n  " + "\n  ".join(skipped or ["none"]))
    # README's two newcomer commands and its long sanitizer run; national.md's cluster example
    # (tests/e2e/test_slurm.py runs the same commands on a real single-node Slurm).
    assert len(skipped) <= 4, skipped


SYNTHETIC = """\
# A page

<!-- file: job.json -->
```json
{"greeting": "hello"}
```

```sh
grep -q hello job.json
echo made > made.txt
```

Prose with an inline `false` that is not a block.

```toml
ignored = true
```

```sh
test -f made.txt   # the earlier block's output, same folder
reclaim --help >/dev/null
```

```sh
echo before
false | cat   # pipefail: the pipeline fails
echo never
```

<!-- example: skip needs a Slurm cluster -->
```sh
srun reclaim
```
"""


def test_runner_on_synthetic_markdown(reclaim_bin, tmp_path):
    examples = collect_examples(SYNTHETIC, "synthetic.md")
    assert [e.block.line for e in examples] == [8, 19, 24, 31]
    assert examples[0].files == [("job.json", '{"greeting": "hello"}\n')]
    assert [e.skip for e in examples] == [None, None, None, "needs a Slurm cluster"]
    ws = Workspace(reclaim_bin, tmp_path, synth=False)
    assert ws.run_example(examples[0]) is None
    assert ws.run_example(examples[1]) is None
    failure = ws.run_example(examples[2])
    assert failure is not None
    assert "synthetic.md:24: the example exited 1" in failure
    assert "false | cat" in failure
    assert "--- stderr ---" in failure


def test_runner_reports_stderr_and_rejects_bad_directives(reclaim_bin, tmp_path):
    md = "```sh\nreclaim indices --no-such-option\n```\n"
    ws = Workspace(reclaim_bin, tmp_path, synth=False)
    failure = ws.run_example(collect_examples(md, "bad.md")[0])
    assert failure and "exited 2" in failure and "no-such-option" in failure.split("--- stderr ---")[1]
    with pytest.raises(ValueError, match="skip REASON"):
        collect_examples("<!-- example: skip -->\n```sh\ntrue\n```\n", "bad.md")
    with pytest.raises(ValueError, match="after the last sh block"):
        collect_examples("```sh\ntrue\n```\n<!-- file: a.toml -->\n```toml\na = 1\n```\n", "bad.md")
