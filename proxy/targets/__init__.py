"""Who a send reaches, from the recorded state of every device, and why a device is left out.

The recorded registration and installation calls the hub accepted are replayed into a
history of snapshots (`history`); a send's target (format, tag expression, direct handles)
is judged against the state before it, registration by registration (`reach`), with each
failed check in words (`explain`). `hubscope targets` and the viewer use it.

May import the store, the decoders, the rules and the vocabulary (`proxy.tagexpr` is the
evaluator the stand-in hub uses too); the viewer and the CLI use it.
"""

from proxy.targets.history import History, hub_of
from proxy.targets.reach import InvalidTarget, Step, Target, Verdict, judge, parse_target
from proxy.targets.recorded import RecordedSend, Recording, from_exchanges, load, matches
from proxy.targets.report import Report, as_json, entry, render_text
from proxy.targets.state import Hub, Registered, Snapshot, expiry_of, iso

__all__ = [
    "History",
    "Hub",
    "InvalidTarget",
    "RecordedSend",
    "Recording",
    "Registered",
    "Report",
    "Snapshot",
    "Step",
    "Target",
    "Verdict",
    "as_json",
    "entry",
    "expiry_of",
    "from_exchanges",
    "hub_of",
    "iso",
    "judge",
    "load",
    "matches",
    "parse_target",
    "render_text",
]
