from tests.sandbox.conftest import sandbox, sandbox_server  # noqa: F401  (fixtures)
from tests.targets.conftest import active_users, sandbox_sessions, session_for, snowflake, target  # noqa: F401
