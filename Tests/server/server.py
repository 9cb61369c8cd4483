#!/usr/bin/env python3
"""A local server speaking OpenAI's HTTP API, for libopenaimodel's tests.

    python3 Tests/server/server.py [--host 127.0.0.1] [--port 0] [--no-validate] [--quiet]

Once listening it prints one line ``PORT <n>`` to stdout, then serves until
SIGTERM or SIGINT.  Every request is validated against OpenAI's published
API description (see omserver/spec.py for where it is looked up); requests
are scoped by API key ("tenants").  See README.md beside this file for the
control API that tests use to inject faults and read the request log.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from werkzeug.serving import ThreadedWSGIServer, make_server  # noqa: E402

from omserver import app as omapp  # noqa: E402
from omserver import spec  # noqa: E402


class _Stop(Exception):
    pass


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-validate", action="store_true",
                    help="do not validate requests against the API description")
    ap.add_argument("--quiet", action="store_true", help="no per-request log lines")
    args = ap.parse_args(argv)

    validator = None
    if args.no_validate:
        print("openai test server: request validation is OFF (--no-validate)",
              file=sys.stderr, flush=True)
    else:
        validator = spec.load_validator()   # ~1-2 s, before the port is announced

    file_dir = tempfile.mkdtemp(prefix="om-openai-server-")
    try:
        application = omapp.OpenAIServer(validator, file_dir, quiet=args.quiet)
        handler = type("QuietHandler" if args.quiet else "Handler", (omapp.Handler,),
                       {"quiet": args.quiet})
        ThreadedWSGIServer.request_queue_size = 1024
        httpd = make_server(args.host, args.port, application, threaded=True,
                            request_handler=handler)

        def stop(signum, frame):
            raise _Stop()
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

        port = httpd.socket.getsockname()[1]
        sys.stdout.write(f"PORT {port}\n")
        sys.stdout.flush()
        sys.stdout = sys.stderr     # nothing else may go to the announced stdout
        if not args.quiet:
            print(f"openai test server listening on http://{args.host}:{port}/v1",
                  file=sys.stderr, flush=True)
        try:
            httpd.serve_forever(poll_interval=0.2)
        except _Stop:
            pass
        finally:
            httpd.server_close()
    finally:
        shutil.rmtree(file_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
