"""Runs one `migrate` command in test/helpers/cli-server.ts, with this process's arguments, environment
and working directory; writes its output and exits with its exit code, as the command itself would.

    python -I -S cli-client.py <socket path> <migrate args...>
"""

import json
import os
import socket
import sys


def main(path, argv):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    client.sendall(json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode())
    client.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = client.recv(1 << 16)
        if not chunk:
            break
        data += chunk
    answer = json.loads(data)
    sys.stdout.write(answer["stdout"])
    sys.stderr.write(answer["stderr"])
    sys.exit(answer["code"])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
