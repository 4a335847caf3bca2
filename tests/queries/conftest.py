from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    connection_of,
    demo_warehouse,
    e2e,
    e2e_worker,
    http_receiver_server,
    warehouse,
    worker_env,
)
from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.security.conftest import live  # noqa: F401  (fixture)
