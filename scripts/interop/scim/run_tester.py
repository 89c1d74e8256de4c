"""Runs scim2-tester (an RFC 7643/7644 compliance checker) against a SCIM server and prints one
JSON line per check, for harness/probe/tests/scim_third_party.rs to compare with `probe scim`.

Usage: python run_tester.py BASE_URL TOKEN_ENV_VAR
The bearer token is read from the named variable, never from the command line.
"""

import json
import os
import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server


def main() -> int:
    base_url, token_env = sys.argv[1], sys.argv[2]
    token = os.environ[token_env]
    http = httpx2.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    client = SyncSCIMClient(http)
    for result in check_server(client):
        print(
            json.dumps(
                {
                    "checker": result.title,
                    "status": result.status.name,
                    "tags": sorted(result.tags),
                    "resource_type": result.resource_type,
                    "reason": result.reason,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
