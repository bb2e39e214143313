"""moto with the local stack's patches, in a process of its own: ``python -m bench.moto_host`` prints
its endpoint URL, then serves until its standard input is closed."""

from __future__ import annotations

import logging
import sys

from moto.server import ThreadedMotoServer

from local import moto_patches


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
