from ninja import Router, Schema

from console.api.schemas import Envelope

from .health import system_health

router = Router(tags=["System"])


class Check(Schema):
    ok: bool
    detail: str
    workers: list[str] | None = None


class Health(Schema):
    ok: bool
    checks: dict[str, Check]


@router.get("/health", auth=None, response={200: Envelope(Health), 503: Envelope(Health)})
def health(request):
    report = system_health()
    return (200 if report["ok"] else 503), {"data": report}
