"""Schemathesis hooks for the API abuse suite (`tools/abuse/run.py` loads them via `SCHEMATHESIS_HOOKS`).

They do three things inside each `st run`:

* aim generated cases at real resources: the fuzzing phase's path and query parameters are
  sometimes swapped for the known values (customer A's order, event `default`, the current QR
  code, the barista actions, the order states), so cases reach the handlers' logic instead of
  stopping at "not found" (the examples phase gets the same values from the spec copy's
  `examples`, which run.py writes);
* `no_state_change_on_rejection`: a custom check failing when a POST/PUT/DELETE/PATCH answered
  4xx changed any snapshotted DynamoDB table (scanned before and after the request; run.py runs
  `st run` with one worker, so nothing else writes in between, and waits for the asynchronous
  work of an earlier accepted request to settle before the "before" snapshot);
* log every checked response (role, operation, status, whether state was compared, any diff)
  as JSON lines for run.py's summary.

Configuration comes from the environment run.py sets: `ABUSE_BASE_URL`, `ABUSE_ROLE`,
`ABUSE_KNOWN` (JSON: parameter name -> known values), `ABUSE_TABLES` (JSON list), `ABUSE_LOG`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snapshots import Snapshot, Tables, diff  # noqa: E402

BASE_URL: str = os.environ.get("ABUSE_BASE_URL", "http://127.0.0.1:8080")
ROLE: str = os.environ.get("ABUSE_ROLE", "?")
KNOWN: dict[str, list[Any]] = json.loads(os.environ.get("ABUSE_KNOWN", "{}"))
TABLES = Tables(BASE_URL, json.loads(os.environ.get("ABUSE_TABLES", "[]")))
LOG_PATH: str | None = os.environ.get("ABUSE_LOG")

MUTATING = frozenset({"POST", "PUT", "DELETE", "PATCH"})

_before: dict[str, Snapshot] = {}
# True while an earlier request may have started asynchronous work that is still writing.
_dirty = True


def _log(record: dict[str, Any]) -> None:
    if LOG_PATH:
        with open(LOG_PATH, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


# ------------------------------------------------------------------ aim at real resources

def _with(values: Any, name: str) -> SearchStrategy[Any]:
    """The generated dict, or the same dict with `name` set to one of its known values."""
    known = KNOWN.get(name) or []
    if not isinstance(values, dict) or name not in values or not known:
        return st.just(values)
    return st.one_of(st.just(values), st.sampled_from([{**values, name: v} for v in known]))


def _aim(values: Any, names: tuple[str, ...]) -> SearchStrategy[Any]:
    strategy: SearchStrategy[Any] = st.just(values)
    for name in names:
        strategy = strategy.flatmap(lambda v, n=name: _with(v, n))
    return strategy


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> SearchStrategy[Any]:
    return _aim(path_parameters, ("orderId", "eventId"))


@schemathesis.hook
def flatmap_query(context: Any, query: Any) -> SearchStrategy[Any]:
    return _aim(query, ("eventId", "token", "action", "state", "limit"))


# ------------------------------------------------------------------ state snapshots

@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.method.upper() in MUTATING and TABLES.tables:
        _before[case.id] = TABLES.settled_snapshot() if _dirty else TABLES.snapshot()


@schemathesis.check
def no_state_change_on_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """A mutating request answered 4xx must leave every snapshotted table as it was."""
    global _dirty
    status = int(response.status_code)
    method = case.method.upper()
    record: dict[str, Any] = {
        "role": ROLE,
        "operation": f"{method} {case.path}",
        "url": response.request.url,
        "status": status,
        "state_checked": False,
    }
    before = _before.pop(case.id, None)
    try:
        if method in MUTATING and 400 <= status < 500 and before is not None:
            changes = diff(before, TABLES.snapshot())
            record["state_checked"] = True
            if changes:
                body = response.request.body
                if isinstance(body, bytes):
                    body = body.decode("utf-8", "replace")
                record["diff"] = changes
                record["request_body"] = (body or "")[:2000]
                record["response_body"] = response.content[:2000].decode("utf-8", "replace")
                _log(record)
                raise AssertionError(
                    f"{method} answered {status} but changed state: " + json.dumps(changes)[:3000]
                )
        _log(record)
        return None
    finally:
        # A 2xx (or a 5xx, which may have half-done something) can leave asynchronous work running.
        _dirty = not (400 <= status < 500)
