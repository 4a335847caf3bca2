"""Fault injection: random 5xx, a burst of 429s, added latency. Off by default.

The configuration is a document in the store (collection "_sandbox", id
"faults"), so tests in the same process and PUT /_sandbox/faults see the same
thing, and a reset turns faults off.

    error_rate   0..1, share of requests answered with one of `statuses`
    statuses     the 5xx codes to choose from, default [500, 502, 503]
    burst_429    the next N requests are answered 429 with Retry-After
    retry_after  seconds sent in Retry-After for those 429s (default 1)
    latency_ms   delay added to every request
    path         only requests whose path starts with this (e.g. "/salesloft/v2/people")
"""

from __future__ import annotations

import random
import time

COLLECTION = "_sandbox"
DOC_ID = "faults"
DEFAULTS = {"error_rate": 0.0, "statuses": [500, 502, 503], "burst_429": 0, "retry_after": 1,
            "latency_ms": 0, "path": None}


def get(state) -> dict:
    doc = state.get(COLLECTION, DOC_ID) or {}
    return {**DEFAULTS, **{k: v for k, v in doc.items() if k in DEFAULTS}}


def put(state, changes: dict) -> dict:
    """Merge `changes` into the fault configuration; raises ValueError on bad input."""
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
    faults = {**get(state), **changes}
    rate = faults["error_rate"]
    if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError("error_rate must be a number between 0 and 1")
    for name in ("burst_429", "latency_ms", "retry_after"):
        if not isinstance(faults[name], int) or faults[name] < 0:
            raise ValueError(f"{name} must be a non-negative integer")
    if not faults["statuses"] or not all(isinstance(s, int) and 400 <= s <= 599 for s in faults["statuses"]):
        raise ValueError("statuses must be a non-empty list of HTTP error codes")
    if faults["path"] is not None and not isinstance(faults["path"], str):
        raise ValueError("path must be a string or null")
    state.put(COLLECTION, {"id": DOC_ID, **faults})
    return faults


def pick(state, path: str) -> tuple[int, dict] | None:
    """Decide this request's fault: (status, headers) to answer with, or None to go on.

    Sleeps for the configured latency first.
    """
    with state.lock:
        faults = get(state)
        if faults["path"] and not path.startswith(faults["path"]):
            return None
        if faults["burst_429"] > 0:
            put(state, {"burst_429": faults["burst_429"] - 1})
            outcome = (429, {"Retry-After": str(faults["retry_after"])})
        elif faults["error_rate"] and random.random() < faults["error_rate"]:
            outcome = (random.choice(faults["statuses"]), {})
        else:
            outcome = None
    if faults["latency_ms"]:
        time.sleep(faults["latency_ms"] / 1000)
    return outcome
