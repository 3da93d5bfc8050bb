"""The AWS CLI for tests that run many `aws` commands: imports the CLI once, then runs each command in a
forked child, so that a command costs a fork instead of the CLI's start (about 0.5 s of CPU each).

    python aws-cli-server.py <socket path>      # the server; prints "ready" when it accepts commands,
                                                # and exits when its standard input closes
    python aws-cli-server.py --run <socket path> <aws args...>

The child is the AWS CLI's own `main()` (what the `aws` script runs) with the caller's arguments,
environment, working directory and standard streams (passed over the socket), and its exit code is the
caller's: a shell that calls the client in place of `aws` sees no difference but the time.
Start it with the interpreter of the installed `aws` script (its first line), so that it runs that CLI.
"""

import json
import os
import signal
import socket
import sys
import threading


def run(path, argv):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    message = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(client, [message], [0, 1, 2])
    client.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        chunk = client.recv(64)
        if not chunk:
            break
        answer += chunk
    sys.exit(int(answer or b"255"))


def child(request, fds):
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # Importing awscli put its data directory on AWS_DATA_PATH (awscli/__init__.py); keep it, after the
    # caller's own directories as awscli orders them.
    data_path = os.environ.get("AWS_DATA_PATH", "")
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(
        p for p in [*data_path.split(os.pathsep), *request["env"].get("AWS_DATA_PATH", "").split(os.pathsep)] if p
    )
    os.chdir(request["cwd"])
    sys.argv = ["aws", *request["argv"]]
    code = 255
    try:
        from awscli.clidriver import main

        code = main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code or 0)


def serve(path):
    # What every command imports, the CLI's plugins (awscli.handlers) included: a command imports nothing
    # more, and imports were two thirds of its time. The service models load in the child, from the OS's
    # page cache.
    import awscli.clidriver  # noqa: F401
    import awscli.handlers  # noqa: F401
    import botocore.session  # noqa: F401

    # The server ends with its parent: its standard input is a pipe from the test, closed when that exits.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
        while True:
            more = conn.recv(1 << 16)
            if not more:
                break
            data += more
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            server.close()
            conn.close()
            child(json.loads(data), fds)
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        conn.sendall(str(os.waitstatus_to_exitcode(status) & 0xFF).encode())
        conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "--run":
        run(sys.argv[2], sys.argv[3:])
    else:
        serve(sys.argv[1])
