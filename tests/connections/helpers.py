"""Driving a provider's consent page the way a browser would, without a browser."""

import re
from html import unescape
from urllib.parse import urlsplit

import httpx


def consent(auth_url: str, decision: str = "allow") -> str:
    """GET the sandbox consent page behind auth_url and answer it; returns where the
    provider redirects the browser (our callback URL with code or error, and state)."""
    page = httpx.get(auth_url)
    assert page.status_code == 200, page.text
    fields = {unescape(name): unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    answer = httpx.post(auth_url.split("?")[0], data={**fields, "decision": decision})
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def local_path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
