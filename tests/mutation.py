"""`make mutation`: mutation testing (cosmic-ray) where a silent bug costs most.

Each target mutates some modules and runs the tests aimed at them, stopping at the first
failure. The run happens in a scratch copy of the tracked files, so the working tree is
never mutated. Prints a table per target and lists every surviving mutant; the figures of
the last full run and why each survivor lives are in docs/mutation-testing.md.

    python -m tests.mutation [TARGET…] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTEST = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly"


@dataclass(frozen=True)
class Target:
    name: str
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    timeout: float = 120.0


TARGETS = (
    Target("redaction", ("proxy/redact/__init__.py", "proxy/redact/fields.py",
                         "proxy/redact/shapes.py", "proxy/redact/escapes.py"),
           ("tests/test_redact_fields.py", "tests/test_redact.py", "tests/redact")),
    Target("sas", ("proxy/sas.py",),
           ("tests/test_sas_edges.py", "tests/test_sas.py", "tests/localhub/test_auth.py")),
    Target("hub-auth", ("proxy/localhub/auth.py", "proxy/localhub/versions.py"),
           ("tests/localhub/test_auth.py", "tests/localhub/test_versions.py",
            "tests/localhub/test_send_checks.py", "tests/localhub/test_reg_views.py")),
    Target("tag-rules", ("proxy/rules/tags.py",),
           ("tests/rules/test_tags.py", "tests/rules/test_examples.py")),
    Target("forwarded-headers", ("proxy/capture/headers.py",),
           ("tests/capture/test_forward_headers.py", "tests/capture/test_forward.py")),
    Target("hub-limits", ("proxy/localhub/limits.py",),
           ("tests/localhub/test_limits.py", "tests/localhub/test_inst_views.py")),
    Target("hub-media", ("proxy/localhub/media.py",), ("tests/localhub/test_media.py",)),
    Target("hub-sends", ("proxy/localhub/batch.py", "proxy/localhub/send_checks.py"),
           ("tests/localhub/test_batch.py", "tests/localhub/test_send_checks.py",
            "tests/localhub/test_media.py", "tests/localhub/test_reg_views.py")),
    Target("hub-installations", ("proxy/localhub/installations.py", "proxy/localhub/patch.py"),
           ("tests/localhub/test_inst_views.py", "tests/localhub/test_limits.py",
            "tests/localhub/test_expiry.py")),
    Target("hub-envelope", ("proxy/localhub/validate.py", "proxy/localhub/decoding.py"),
           ("tests/localhub/test_envelope.py", "tests/localhub/test_envelope_edges.py",
            "tests/localhub/test_reg_views.py", "tests/localhub/test_inst_views.py",
            "tests/localhub/test_limits.py")),
)  # fmt: skip


def scratch_copy(dest: Path) -> None:
    """The tracked files (and untracked, not ignored ones) of the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    if (REPO / ".deps").exists() and not (dest / ".deps").exists():
        (dest / ".deps").symlink_to(REPO / ".deps")


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the module's annotations are: never evaluated (`from __future__ import
    annotations`), so a mutant there is equivalent by construction."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.arg | ast.AnnAssign):
            annotations.append(node.annotation)
        for ann in filter(None, annotations):
            spans.append(
                ((ann.lineno, ann.col_offset), (ann.end_lineno or 0, ann.end_col_offset or 0))
            )
    return spans


def skip_annotation_mutants(work: Path, session: str) -> int:
    """Mark mutants inside annotations as skipped before running them; how many."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    skipped = 0
    with use_db(str(work / session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            inside = True
            for mutation in item.mutations:
                path = str(mutation.module_path)
                if path not in spans:
                    spans[path] = annotation_spans(work / path)
                start = tuple(mutation.start_pos)
                inside &= any(a <= start < b for a, b in spans[path])
            if inside:
                db.set_result(item.job_id, WorkResult(
                    worker_outcome=WorkerOutcome.SKIPPED, output="annotation"))  # fmt: skip
                skipped += 1
    return skipped


def config(target: Target) -> str:
    existing = [t for t in target.tests if (REPO / t).exists()]
    modules = ", ".join(json.dumps(m) for m in target.modules)
    return (
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        f"timeout = {target.timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(PYTEST + ' ' + ' '.join(existing))}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )


def cosmic(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("cosmic-ray")
    return subprocess.run([str(tool), *args], cwd=work, text=True, capture_output=True)


def outcomes(work: Path, session: str) -> list[tuple[dict, dict | None]]:
    dumped = cosmic(work, "dump", session)
    rows = [json.loads(line) for line in dumped.stdout.splitlines() if line.strip()]
    return [(item, result) for item, result in rows]


def forget_survivors(work: Path, session: str) -> None:
    """Make the surviving mutants pending again, to run them against newer tests."""
    with sqlite3.connect(work / session) as db:
        db.execute("delete from work_results where upper(test_outcome) = 'SURVIVED'")


def run_target(work: Path, target: Target, *, retest: bool = False) -> dict[str, object]:
    cfg, session = f"{target.name}.toml", f"{target.name}.sqlite"
    (work / cfg).write_text(config(target))
    if not (work / session).exists():  # else resume: exec runs only what is pending
        cosmic(work, "init", cfg, session).check_returncode()
    elif retest:
        forget_survivors(work, session)
    skip_annotation_mutants(work, session)
    baseline = cosmic(work, "baseline", cfg)
    if baseline.returncode != 0:
        raise SystemExit(f"{target.name}: the tests fail without any mutation\n{baseline.stdout}")
    cosmic(work, "exec", cfg, session)
    counts = {"killed": 0, "survived": 0, "timeout": 0, "incompetent": 0, "annotation": 0,
              "other": 0}  # fmt: skip
    survivors: list[str] = []
    for item, result in outcomes(work, session):
        result = result or {}
        worker, test = result.get("worker_outcome"), result.get("test_outcome")
        in_annotation = all(
            any(tuple(a) <= tuple(m["start_pos"]) < tuple(b)
                for a, b in annotation_spans(work / m["module_path"]))
            for m in item["mutations"]
        )  # fmt: skip
        if in_annotation and (worker == "skipped" or test == "survived"):
            counts["annotation"] += 1
            continue
        elif worker == "timeout":
            counts["timeout"] += 1
        elif test in ("killed", "survived", "incompetent"):
            counts[test] += 1
        else:
            counts["other"] += 1
        if test == "survived":
            for mutation in item["mutations"]:
                start = mutation["start_pos"]
                survivors.append(
                    f"{mutation['module_path']}:{start[0]} {mutation['operator_name']} "
                    f"#{mutation['occurrence']}: {result.get('diff', '').strip()[-400:]}"
                )
    total = sum(counts.values()) - counts["annotation"]
    caught = counts["killed"] + counts["timeout"]
    rate = round(100 * caught / total, 1) if total else 0.0
    return {"target": target.name, "total": total, **counts, "rate": rate, "survivors": survivors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--keep", type=Path, help="keep the scratch copy and sessions here")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="with --keep: run the survivors of an earlier run again (after adding tests)",
    )
    args = parser.parse_args()
    chosen = [t for t in TARGETS if not args.targets or t.name in args.targets]
    work = args.keep or Path(tempfile.mkdtemp(prefix="hubscope-mutation-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch_copy(work)
    os.environ.pop("CI", None)
    results = []
    for target in chosen:
        print(f"== {target.name}: {', '.join(target.modules)}", flush=True)
        result = run_target(work, target, retest=args.retest_survivors)
        results.append(result)
        print(
            f"   {result['total']} mutants: {result['killed']} killed, "
            f"{result['timeout']} timed out, {result['survived']} survived, "
            f"{result['incompetent']} incompetent -> {result['rate']}% caught "
            f"({result['annotation']} more in annotations, equivalent, not run)",
            flush=True,
        )
        for survivor in result["survivors"]:  # type: ignore[attr-defined]
            print(f"   SURVIVED {survivor}", flush=True)
    total = sum(int(r["total"]) for r in results)  # type: ignore[call-overload]
    caught = sum(int(r["killed"]) + int(r["timeout"]) for r in results)  # type: ignore[call-overload]
    print(f"== all: {caught}/{total} mutants caught ({100 * caught / max(total, 1):.1f}%)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
