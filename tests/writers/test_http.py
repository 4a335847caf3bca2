"""RetryingTransport: 429 waits, 5xx and network retries, 4xx as is."""

import httpx
import pytest

from integrations.base import ConnectionFailed, RateLimited
from integrations.http import RetryingTransport


class Recorder:
    """A limiter that remembers what the transport asked of it."""

    def __init__(self):
        self.acquired = 0
        self.pauses = []

    def acquire(self, cost=1):
        self.acquired += cost
        return 0.0

    def rate_limited(self, retry_after):
        self.pauses.append(retry_after)


def client(answers, limiter=None, **options):
    """A client whose server answers from the list, in order; returns (client, seen requests, sleeps)."""
    seen, sleeps = [], []

    def handler(request):
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = RetryingTransport(limiter, transport=httpx.MockTransport(handler), sleep=sleeps.append, **options)
    return httpx.Client(base_url="https://api.example", transport=transport), seen, sleeps


def test_a_429_is_waited_out_and_reported_to_the_limiter():
    limiter = Recorder()
    http, seen, sleeps = client(
        [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": True})], limiter)
    response = http.post("/people", json={"email": "a@example.com"})
    assert response.status_code == 200
    assert len(seen) == 2
    assert seen[1].content == seen[0].content == b'{"email":"a@example.com"}'
    assert limiter.pauses == [2.0]
    assert limiter.acquired == 2  # once per request sent (plus a zero-cost wait)
    assert sleeps == [2.0]  # this limiter does not pause, so the transport waited itself


def test_429s_beyond_the_wait_budget_raise_rate_limited():
    http, seen, sleeps = client([httpx.Response(429, headers={"Retry-After": "30"})] * 5, max_rate_wait=60)
    with pytest.raises(RateLimited) as caught:
        http.get("/people")
    assert caught.value.retry_after == 30
    assert sleeps == [30.0, 30.0]
    assert len(seen) == 3


def test_5xx_is_retried_with_growing_backoff_then_returned():
    http, seen, sleeps = client([httpx.Response(503)] * 4, attempts=4, backoff=0.5)
    response = http.get("/people")
    assert response.status_code == 503
    assert len(seen) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_5xx_then_success():
    http, seen, _ = client([httpx.Response(500), httpx.Response(201, json={"id": 1})])
    assert http.post("/people", json={}).json() == {"id": 1}
    assert len(seen) == 2


def test_4xx_is_returned_at_once():
    http, seen, sleeps = client([httpx.Response(422, json={"errors": {"email": ["is invalid"]}})])
    response = http.post("/people", json={})
    assert response.status_code == 422
    assert len(seen) == 1 and sleeps == []


def test_network_errors_are_retried_then_connection_failed():
    errors = [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={})]
    http, seen, sleeps = client(errors)
    assert http.get("/me").status_code == 200
    assert len(seen) == 3

    http, seen, _ = client([httpx.ConnectError("refused")] * 3, attempts=3)
    with pytest.raises(ConnectionFailed, match="after 3 attempts"):
        http.get("/me")


def test_a_429_pauses_every_user_of_a_shared_redis_limiter(redis_url):
    import uuid

    from console.engine.ratelimit import RedisLimiter, redis_client

    name = f"http-test-{uuid.uuid4().hex}"
    limiter = RedisLimiter(redis_client(redis_url), name, [(100, 60)], max_wait=30)
    other_worker = RedisLimiter(redis_client(redis_url), name, [(100, 60)], max_wait=30)
    http, seen, sleeps = client(
        [httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})], limiter)
    assert http.get("/me").status_code == 200
    assert limiter.waited > 0.5  # the limiter, not the transport, held the retry back
    assert sleeps == []
    assert other_worker.try_acquire(1) == 0  # the pause is over for everyone


class Clock:
    """time.monotonic() for a transport with a deadline: moves when it sleeps or a request times out."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def bounded_client(answers, seconds, **options):
    """A client whose transport must be done `seconds` from now; a "hang" answer uses up the
    request's read timeout and raises ReadTimeout. Returns (client, seen requests' read timeouts, clock)."""
    clock, timeouts = Clock(), []

    def handler(request):
        timeouts.append(request.extensions["timeout"]["read"])
        answer = answers.pop(0)
        if answer == "hang":
            clock.sleep(request.extensions["timeout"]["read"])
            raise httpx.ReadTimeout("timed out")
        return answer

    transport = RetryingTransport(transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock,
                                  deadline=clock() + seconds, **options)
    return httpx.Client(base_url="https://api.example", transport=transport, timeout=30.0), timeouts, clock


def test_a_deadline_cuts_a_hanging_request_short_and_names_the_host():
    http, timeouts, clock = bounded_client(["hang", "hang"], seconds=3)
    with pytest.raises(ConnectionFailed, match=r"No answer from api\.example within 3 s: ReadTimeout"):
        http.get("/me")
    assert timeouts == [3.0]  # the client's 30 s read timeout, clipped to what was left; no retry
    assert clock.now == 103.0


def test_under_a_deadline_a_long_429_wait_fails_at_once():
    http, timeouts, clock = bounded_client([httpx.Response(429, headers={"Retry-After": "30"})], seconds=10)
    with pytest.raises(RateLimited, match="asks to wait 30 s"):
        http.get("/me")
    assert len(timeouts) == 1 and clock.now == 100.0  # nothing waited


def test_under_a_deadline_retries_stop_before_it():
    http, timeouts, clock = bounded_client([httpx.Response(503)] * 4, seconds=2, backoff=0.5)
    assert http.get("/me").status_code == 503
    assert clock.now == 101.5  # waited 0.5 and 1.0; a 2 s wait would end past the deadline
    assert timeouts == [2.0, 1.5, 0.5]
