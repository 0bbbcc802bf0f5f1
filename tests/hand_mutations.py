"""Issue 23's leniencies and hand mutations, each put back by hand: which test goes red?

Each mutation re-introduces one leniency the issue lists (a row of its table, or a hand
mutation no test caught) in a scratch copy of the tracked files, runs the tests aimed at
it (`pytest -x`; for the stand-in hub, then all of `tests/localhub` if those pass) and
reports the first test that fails — or that the mutant survived.
The working tree is never changed. Results: docs/mutation-testing.md.

    python -m tests.hand_mutations [ID…] [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.mutation import scratch_copy

PYTEST = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p",
          "no:randomly", "-rf"]  # fmt: skip
HUB_TESTS = ("tests/localhub",)
DROPPED = 'REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length"'


@dataclass(frozen=True)
class Mutation:
    ident: str
    leniency: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = HUB_TESTS


MUTATIONS = (
    # The table: "the stand-in accepts" ...
    Mutation("tags-grammar", "tag `my tag!` on a registration", "proxy/localhub/limits.py",
             "        if not TAG.match(tag):", "        if False:",
             ("tests/localhub/test_limits.py",)),
    Mutation("tags-length", "121-character tag", "proxy/localhub/limits.py",
             "        if len(tag) > MAX_LENGTH:", "        if False:",
             ("tests/localhub/test_limits.py",)),
    Mutation("tags-count", "61 tags", "proxy/localhub/limits.py",
             "    if len(listed) > MAX_COUNT:", "    if False:",
             ("tests/localhub/test_limits.py",)),
    Mutation("tags-registration", "registration tags unchecked", "proxy/localhub/reg_views.py",
             'check_tags(device.tags if "Tags" in verdict.kept else (), "Tags")',
             'check_tags((), "Tags")',
             ("tests/localhub/test_limits.py",)),
    Mutation("tags-installation-put", "installation PUT tags unchecked",
             "proxy/localhub/installations.py", "    check_tags(tags)\n", "    pass\n",
             ("tests/localhub/test_limits.py", "tests/localhub/test_inst_views.py",)),
    Mutation("tags-installation-patch", "PATCH `add /tags` unchecked",
             "proxy/localhub/inst_views.py",
             "doc = normalise(apply_patch(json.loads(inst.document), body), installation_id)",
             "doc = apply_patch(json.loads(inst.document), body)",
             ("tests/localhub/test_limits.py", "tests/localhub/test_inst_views.py",)),
    Mutation("envelope-connect-ns", "description without/with a wrong `connect` namespace",
             "proxy/localhub/decoding.py", "    if namespace != CONNECT_NS:", "    if False:",
             ("tests/localhub/test_envelope.py",)),
    Mutation("envelope-entry", "bare description without `<entry>`",
             "proxy/localhub/decoding.py", 'if (name, namespace) != ("entry", ATOM_NS):',
             "if False:",
             ("tests/localhub/test_envelope.py",)),
    Mutation("envelope-atom-ns", "`<entry>` without the Atom namespace",
             "proxy/localhub/decoding.py", 'if (name, namespace) != ("entry", ATOM_NS):',
             'if name != "entry":',
             ("tests/localhub/test_envelope.py",)),
    Mutation("api-version-missing", "no `api-version`", "proxy/localhub/versions.py",
             'return "The api-version query parameter is required"', "return None",
             ("tests/localhub/test_versions.py",)),
    Mutation("api-version-unknown", "`api-version=1999-01`", "proxy/localhub/versions.py",
             "    if version not in KNOWN:", "    if False:",
             ("tests/localhub/test_versions.py",)),
    Mutation("content-type-none", "sends and writes without `Content-Type`",
             "proxy/localhub/media.py", "    if found in allowed:",
             "    if found in allowed or found is None:",
             ("tests/localhub/test_media.py",)),
    Mutation("content-type-send", "a send as `text/plain`", "proxy/localhub/media.py",
             "    allowed = (OCTETS,) if wns_raw else _SEND_TYPES.get(fmt, (JSON,))\n"
             "    return _problem(content_type, allowed)",
             "    return None",
             ("tests/localhub/test_media.py",)),
    Mutation("content-type-write", "installation PUT as `text/plain`, registration POST as "
             "`application/json`", "proxy/localhub/media.py",
             "return None if allowed is None else _problem(content_type, allowed)",
             "return None",
             ("tests/localhub/test_media.py",)),
    Mutation("batch-no-parts", "`$batch` with no parts", "proxy/localhub/batch.py",
             "    if notification is None or devices is None:", "    if False:",
             ("tests/localhub/test_batch.py",)),
    Mutation("batch-not-multipart", "`$batch` not multipart", "proxy/localhub/batch.py",
             'if not content_type or not content_type.strip().lower().startswith("multipart/"):',
             "if False:",
             ("tests/localhub/test_batch.py",)),
    Mutation("batch-no-format", "`$batch` with no format", "proxy/localhub/send_checks.py",
             "    if fmt not in FORMATS:",
             "    if fmt not in FORMATS and op is not Op.SEND_BATCH:",
             ("tests/localhub/test_batch.py",)),
    Mutation("batch-1500", "`$batch` with 1,500 handles", "proxy/localhub/batch.py",
             "    if len(handles) > MAX_HANDLES:", "    if False:",
             ("tests/localhub/test_batch.py",)),
    Mutation("schedule-garbage", "`ScheduleTime: garbage`", "proxy/localhub/send_checks.py",
             "        when = datetime.fromisoformat(value.strip())\n    except ValueError:\n"
             "        raise SendRefused(",
             "        when = datetime.fromisoformat(value.strip())\n    except ValueError:\n"
             "        return datetime.fromtimestamp(now, UTC)\n        raise SendRefused(",
             ("tests/localhub/test_send_checks.py",)),
    Mutation("schedule-2099", "scheduled in 2099", "proxy/localhub/send_checks.py",
             "    if when > datetime.fromtimestamp(now, UTC) + MAX_SCHEDULE_AHEAD:",
             "    if False:",
             ("tests/localhub/test_send_checks.py",)),
    Mutation("wns-raw-6kb", "a 6 KB WNS raw send", "proxy/localhub/send_checks.py",
             'if wns_type.strip().lower() == "wns/raw" and len(body) > WNS_RAW_MAX:',
             "if False:",
             ("tests/localhub/test_send_checks.py",)),
    Mutation("template-wns-type", "installation template for WNS without `X-WNS-Type`",
             "proxy/localhub/installations.py",
             '_MANDATORY_HEADER = {Platform.WNS: "X-WNS-Type", Platform.MPNS: '
             '"X-WindowsPhone-Target"}',
             '_MANDATORY_HEADER = {Platform.MPNS: "X-WindowsPhone-Target"}',
             ("tests/localhub/test_limits.py",)),
    Mutation("template-mpns-target", "installation template for MPNS without its target header",
             "proxy/localhub/installations.py",
             '_MANDATORY_HEADER = {Platform.WNS: "X-WNS-Type", Platform.MPNS: '
             '"X-WindowsPhone-Target"}',
             '_MANDATORY_HEADER = {Platform.WNS: "X-WNS-Type"}',
             ("tests/localhub/test_limits.py",)),
    Mutation("etag-header-write", "`ETag: W/\"n\"` on create/upsert", "proxy/localhub/reg_views.py",
             'return web.Response(status=200, body=body_out, headers={"Content-Type": ATOM_ENTRY})',
             'return web.Response(status=200, body=body_out, headers={"Content-Type": ATOM_ENTRY, '
             '"ETag": f\'W/"{reg.etag}"\'})',
             ("tests/localhub/test_reg_views.py",)),
    Mutation("etag-header-read", "`ETag: W/\"n\"` on read", "proxy/localhub/reg_views.py",
             'return web.Response(body=body, headers={"Content-Type": READ_TYPE})\n\n\n'
             "def _drop_from_installation",
             'return web.Response(body=body, headers={"Content-Type": READ_TYPE, '
             '"ETag": f\'W/"{reg.etag}"\'})\n\n\ndef _drop_from_installation',
             ("tests/localhub/test_reg_views.py",)),
    Mutation("missing-right-401", "a missing right → 401 with an `<Error>` body at 2020-06",
             "proxy/localhub/routes.py", "            return ctx.empty(403)",
             '            return ctx.error(401, f"{lacking.value} claim is required for this '
             'operation.")',
             ("tests/localhub/test_auth.py",)),
    Mutation("any-hub-name", "any hub name (`nosuchhub` → 200)", "proxy/localhub/settings.py",
             "        return self.allow_unknown_hubs or hub.lower() in self.hubs",
             "        return True",
             ("tests/localhub/test_reg_views.py",)),
    Mutation("user-id-space", "`userId` with a space", "proxy/localhub/limits.py",
             r'"^[-_@#.:=\w]+$"', r'"^[-_@#.:=\w ]+$"',
             ("tests/localhub/test_limits.py",)),
    Mutation("secondary-tiles-apns", "`secondaryTiles` on APNs", "proxy/localhub/installations.py",
             "        if platform is not Platform.WNS:", "        if False:",
             ("tests/localhub/test_limits.py",)),
    Mutation("template-name-250", "250-character template names", "proxy/localhub/limits.py",
             "    if len(name) > MAX_TEMPLATE_NAME:", "    if False:",
             ("tests/localhub/test_limits.py",)),
    # Hand mutations no test caught
    Mutation("redact-error-text", "error text not redacted (a `?sig=` URL in the stored error)",
             "proxy/redact/__init__.py",
             '        "error": text(ex.error) if ex.error else ex.error,',
             '        "error": ex.error,',
             ("tests/test_redact_fields.py", "tests/test_redact.py", "tests/redact")),
    Mutation("redact-keys", "`PrimaryKey`/`SecondaryKey` no longer redacted",
             "proxy/redact/fields.py", '"PrimaryKey", "SecondaryKey", "SharedAccessKey",',
             '"SharedAccessKey",',
             ("tests/test_redact_fields.py", "tests/test_redact.py", "tests/redact")),
    Mutation("listen-schedules", "a Listen key allowed to schedule sends",
             "proxy/localhub/auth.py", "        Op.SCHEDULE_SEND,\n", "",
             ("tests/localhub/test_send_checks.py",)),
    Mutation("list-by-tag-case", "list-by-tag made case-sensitive", "proxy/localhub/reg_views.py",
             'tag = (ctx.op.resource_id or "").lower()\n'
             "            items = [i for i in items if tag in (t.lower() for t in i[1].tags)]",
             'tag = ctx.op.resource_id or ""\n'
             "            items = [i for i in items if tag in i[1].tags]",
             ("tests/localhub/test_reg_views.py",)),
    Mutation("patch-replace-tags", "PATCH `replace /tags` appending", "proxy/localhub/patch.py",
             '    elif op == "replace":\n        current = _tag_list(value)',
             '    elif op == "replace":\n        current.extend(_tag_list(value))',
             ("tests/localhub/test_inst_views.py",)),
    Mutation("forward-content-type", "the forwarder dropping the request's `Content-Type`",
             "proxy/capture/headers.py",
             DROPPED + "}", DROPPED + ', "content-type"}',
             ("tests/capture/test_forward_headers.py",)),
    Mutation("debug-send-1000", "the debug-send limit raised from 10 to 1,000",
             "proxy/localhub/sends.py", "TEST_SEND_LIMIT = 10", "TEST_SEND_LIMIT = 1000",
             ("tests/localhub/test_sends.py",)),
    Mutation("forward-x-ms-version", "the forwarder dropping `x-ms-version`",
             "proxy/capture/headers.py",
             DROPPED + "}", DROPPED + ', "x-ms-version"}',
             ("tests/capture/test_forward_headers.py",)),
    Mutation("forward-trackingid", "the forwarder dropping `TrackingId`",
             "proxy/capture/headers.py",
             DROPPED + "}", DROPPED + ', "trackingid"}',
             ("tests/capture/test_forward_headers.py",)),
    Mutation("rules-template-tags", "the tag rules ignoring installation template tags",
             "proxy/rules/tags.py",
             '    if device.kind == "installation":\n        for template in device.templates:',
             "    if False:\n        for template in device.templates:",
             ("tests/rules/test_tags.py",)),
    Mutation("rules-spaces", "the tag grammar allowing spaces", "proxy/rules/tags.py",
             r"|[-_@#.:\w]+)$", r"|[-_@#.:\w ]+)$", ("tests/rules/test_tags.py",)),
)  # fmt: skip


def run(work: Path, mutation: Mutation) -> tuple[str, str]:
    """('killed', first failing test) or ('survived', '') or ('error', output tail)."""
    path = work / mutation.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutation.old) != 1:
        return "stale", f"{mutation.old!r} occurs {original.count(mutation.old)} times"
    path.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
    try:
        done = subprocess.run([*PYTEST, *mutation.tests], cwd=work, capture_output=True,
                              text=True, timeout=900)  # fmt: skip
        if done.returncode == 0 and mutation.path.startswith("proxy/localhub/"):
            done = subprocess.run([*PYTEST, *HUB_TESTS], cwd=work, capture_output=True,
                                  text=True, timeout=900)  # fmt: skip
            if done.returncode == 0:
                return "survived", ""
    finally:
        path.write_text(original, encoding="utf-8")
    if done.returncode == 0:
        return "survived", ""
    failed = re.findall(r"^FAILED (\S+)", done.stdout, re.MULTILINE)
    if done.returncode == 1 and failed:
        return "killed", failed[0]
    return "error", done.stdout[-600:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("idents", nargs="*", help="mutation ids (default: all)")
    parser.add_argument("--keep", type=Path, help="scratch copy to use and keep")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hubscope-hand-mutations-"))
    work.mkdir(parents=True, exist_ok=True)
    scratch_copy(work)
    try:
        baseline = subprocess.run([*PYTEST, *HUB_TESTS], cwd=work, capture_output=True)
        if baseline.returncode != 0:
            raise SystemExit("the hub's tests fail without any mutation")
        outcomes = []
        for mutation in MUTATIONS:
            if args.idents and mutation.ident not in args.idents:
                continue
            outcome, detail = run(work, mutation)
            outcomes.append(outcome)
            print(f"{mutation.ident:26} {outcome:8} {detail}", flush=True)
        print(f"{outcomes.count('killed')}/{len(outcomes)} killed")
        if any(o != "killed" for o in outcomes):
            raise SystemExit(1)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
