"""Create a user who joins two batches until an expiry date, and print the
created user.

    ROSTER_TOKEN=... python3 create_user.py [USERNAME [EMAIL [EXPIRES]]]

ROSTER_URL is the server's address (default http://127.0.0.1:8000),
ROSTER_TOKEN a token from sign_in.py of a user allowed to add users. The
batches "Test Batch" and "UPSC Morning Batch" must exist. EXPIRES is a date,
yyyy-mm-dd (default: a year from today).
"""

import datetime
import json
import os
import sys

import requests

args = sys.argv[1:] + [None] * 3
username = args[0] or "lorem"
email = args[1] or "lorem@example.com"
expires = args[2] or (datetime.date.today() + datetime.timedelta(days=365)).isoformat()

url = os.environ.get("ROSTER_URL", "http://127.0.0.1:8000").rstrip("/") + "/api/v2.5/admin/users/"

payload = json.dumps({
    "username": username,
    "password": "ipsum-dolor-1",
    "first_name": "John",
    "last_name": "Appleseed",
    "email": email,
    "birth_date": "03/07/2016",
    "state": "IN-TN",
    "batches": ["Test Batch", "UPSC Morning Batch"],
    "expires": expires,
})
headers = {
    "content-type": "application/json",
    "authorization": "JWT " + os.environ["ROSTER_TOKEN"],
}

response = requests.request("POST", url, data=payload, headers=headers, timeout=30)

print(response.text)
sys.exit(0 if response.ok else 1)
