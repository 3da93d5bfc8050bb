"""moto_server for the tests: moto's own server (`moto.server.main`, what the `moto_server` script
runs) with the same arguments and one change.

To find the backend of a request, moto lists its own package directory on every request (about 170
`stat` calls in `moto.backends.list_of_moto_modules`). The list cannot change while the server runs, so
it is read once: measured, 3.2 to 2.8 ms of CPU per SSM GetParameter and 4.0 to 2.6 ms per
PutParameter. Where a moto version has no such function, the server runs unchanged.

    python moto-server.py -H 127.0.0.1 -p <port>

Start it with the interpreter of the installed `moto_server` script (its first line), so that it runs
that moto.
"""

import sys

from moto import backends
from moto.server import main

if callable(getattr(backends, "list_of_moto_modules", None)):
    MODULES = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: MODULES

sys.exit(main(sys.argv[1:]))
