from ninja import Router

router = Router(tags=["Model syncs"])
