"""python -m integrations.sandbox --host 127.0.0.1 --port 8100 --state var/sandbox.sqlite3"""

import argparse
import logging
import os

from .server import SandboxServer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m integrations.sandbox",
                                     description="Local emulations of Salesloft, Gong, LinkedIn, Salesforce and HubSpot.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--state", default=None, help="sqlite file for state (default: in memory)")
    parser.add_argument("--token-lifetime", type=int, default=None, help="access-token lifetime in seconds")
    args = parser.parse_args(argv)
    settings = {}
    if args.token_lifetime is not None:
        settings["token_lifetime"] = args.token_lifetime
    if args.state:
        os.makedirs(os.path.dirname(os.path.abspath(args.state)), exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = SandboxServer(port=args.port, state_path=args.state, host=args.host, quiet=False, **settings)
    print(f"sandbox providers on {server.url}: "
          + ", ".join(f"{m.NAME} {server.url}{m.PREFIX}" for m in server.app.providers), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
