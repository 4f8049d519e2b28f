"""Sign in and print the answer: {"token": "...", "expires": "..."}.

    ROSTER_USERNAME=admin ROSTER_PASSWORD=... python3 sign_in.py

ROSTER_URL is the server's address (default http://127.0.0.1:8000). The
password travels in the environment, not on the command line, so other users
of the machine cannot read it from the process list.
"""

import json
import os
import sys

import requests

url = os.environ.get("ROSTER_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v2.5/auth-token/"

payload = json.dumps({
    "username": os.environ["ROSTER_USERNAME"],
    "password": os.environ["ROSTER_PASSWORD"],
})
headers = {
    "content-type": "application/json",
}

response = requests.request("POST", url, data=payload, headers=headers, timeout=30)

print(response.text)
sys.exit(0 if response.ok else 1)
