"""Starts scim2-server (its own `scim2-server` command, unchanged) with the bearer token read
from SCIM_BEARER_TOKEN, so that the token is never on a command line another user can read.
Every other argument is passed through, e.g. `--port 8080`.
"""

import os
import sys

from scim2_server.testserver.cli import main

if __name__ == "__main__":
    sys.argv = ["scim2-server", *sys.argv[1:], "--bearer-token", os.environ["SCIM_BEARER_TOKEN"]]
    # sys.argv is Python's own list: the process's command line (/proc/PID/cmdline) stays
    # `python serve.py --port N`, without the token.
    main()
