"""Find a user by email and print the answer: a page of at most one user,
with the user's batches.

    ROSTER_TOKEN=... python3 view_user.py EMAIL

ROSTER_URL is the server's address (default http://127.0.0.1:8000),
ROSTER_TOKEN a token from sign_in.py of a user allowed to view users.
"""

import os
import sys

import requests

url = os.environ.get("ROSTER_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v2.5/admin/users/"

querystring = {"email": sys.argv[1]}
headers = {
    "authorization": "JWT " + os.environ["ROSTER_TOKEN"],
}

response = requests.request("GET", url, headers=headers, params=querystring, timeout=30)

print(response.text)
sys.exit(0 if response.ok else 1)
