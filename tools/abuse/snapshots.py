"""DynamoDB table snapshots through presso's DynamoDB JSON protocol (stdlib only).

Shared by `run.py` (hand-written cases, whole-run invariants) and `hooks.py` (every generated
request). A snapshot is `{table: sorted list of canonical item JSON}`, so two snapshots compare
equal exactly when every item of every table is identical.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

Snapshot = dict[str, list[str]]

# Asynchronous work started by an accepted request (EventBridge deliveries, journey entries,
# workflow steps) lands locally within ~40 ms; a snapshot counts as settled once the tables
# have stayed unchanged this long.
SETTLE_QUIET_S = 0.08
SETTLE_MAX_S = 5.0


class Tables:
    """Scans a fixed list of tables on one presso endpoint."""

    def __init__(self, base_url: str, tables: list[str]) -> None:
        self.base_url = base_url.rstrip("/")
        self.tables = list(tables)

    def _call(self, target: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.base_url + "/",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "x-amz-target": f"DynamoDB_20120810.{target}",
                "content-type": "application/x-amz-json-1.0",
            },
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def list_tables(self) -> list[str]:
        return list(self._call("ListTables", {}).get("TableNames", []))

    def scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        while True:
            body: dict[str, Any] = {"TableName": table}
            if start:
                body["ExclusiveStartKey"] = start
            page = self._call("Scan", body)
            items.extend(page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def snapshot(self) -> Snapshot:
        return {t: sorted(json.dumps(i, sort_keys=True) for i in self.scan(t)) for t in self.tables}

    def settled_snapshot(self) -> Snapshot:
        """A snapshot taken once the tables have stopped changing (or after SETTLE_MAX_S)."""
        deadline = time.monotonic() + SETTLE_MAX_S
        prev = self.snapshot()
        while time.monotonic() < deadline:
            time.sleep(SETTLE_QUIET_S)
            cur = self.snapshot()
            if cur == prev:
                return cur
            prev = cur
        return prev


def _key(item_json: str) -> str:
    item = json.loads(item_json)
    return json.dumps({k: item[k] for k in ("PK", "SK") if k in item}, sort_keys=True)


def diff(before: Snapshot, after: Snapshot) -> dict[str, dict[str, list[Any]]]:
    """Per table: items added, removed and changed (matched by PK/SK), as decoded JSON."""
    out: dict[str, dict[str, list[Any]]] = {}
    for table in sorted(set(before) | set(after)):
        b = {_key(i): i for i in before.get(table, [])}
        a = {_key(i): i for i in after.get(table, [])}
        added = [json.loads(a[k]) for k in sorted(a.keys() - b.keys())]
        removed = [json.loads(b[k]) for k in sorted(b.keys() - a.keys())]
        changed = [
            {"before": json.loads(b[k]), "after": json.loads(a[k])}
            for k in sorted(a.keys() & b.keys())
            if a[k] != b[k]
        ]
        if added or removed or changed:
            out[table] = {"added": added, "removed": removed, "changed": changed}
    return out


def only(snap: Snapshot, table: str, pk_prefix: str) -> list[str]:
    """The items of one table whose PK starts with `pk_prefix`."""
    return [i for i in snap.get(table, []) if json.loads(i).get("PK", {}).get("S", "").startswith(pk_prefix)]
