"""Drives the fake org with simple-salesforce, unchanged.

SOAP login (username, password, security token), a REST SOQL query, a Bulk API 1.0
query and a Bulk API 1.0 insert. simple-salesforce always logs in at a fixed host
built from its `domain` argument under Salesforce's own domain; it takes a requests
session, so the session below sends that one SOAP login call to the fake org. Everything after the login uses the
serverUrl the fake org returned, as the client does with a real org. The fake org
runs with --tls; REQUESTS_CA_BUNDLE trusts its certificate.

Environment: FAKE_ORG_URL, FAKE_ORG_USERNAME, FAKE_ORG_PASSWORD, FAKE_ORG_TOKEN.
Exits non-zero on the first failed check.
"""

import os
import sys

from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce, SalesforceAuthenticationFailed

BASE = os.environ["FAKE_ORG_URL"].rstrip("/")
USER = os.environ["FAKE_ORG_USERNAME"]
PASSWORD = os.environ["FAKE_ORG_PASSWORD"]
TOKEN = os.environ["FAKE_ORG_TOKEN"]


class FakeOrgSession(requests.Session):
    """Sends the client's SOAP login, made to its fixed login host, to the fake org."""

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.path.startswith("/services/Soap/u/") and not url.startswith(BASE):
            url = BASE + parts.path
        return super().request(method, url, *args, **kwargs)


def check(cond, what):
    if not cond:
        print(f"FAIL: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def main():
    try:
        Salesforce(username=USER, password="wrong", security_token=TOKEN,
                   session=FakeOrgSession(), version="62.0")
        check(False, "a bad password is refused")
    except SalesforceAuthenticationFailed as e:
        check(e.code == "INVALID_LOGIN", f"a bad password is INVALID_LOGIN ({e.code})")

    sf = Salesforce(username=USER, password=PASSWORD, security_token=TOKEN,
                    session=FakeOrgSession(), version="62.0")
    check(sf.session_id, "SOAP login returns a session id")
    check(sf.sf_instance == BASE.split("://", 1)[1],
          f"instance from serverUrl ({sf.sf_instance})")

    total = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    page = sf.query("SELECT Id, Name FROM Account ORDER BY Id LIMIT 5")
    check(page["totalSize"] == 5 and len(page["records"]) == 5, "REST SOQL query")
    check(total > 5, f"{total} accounts")

    rows = sf.bulk.Account.query("SELECT Id, Name FROM Account", wait=1)
    check(len(rows) == total, f"Bulk 1.0 query returns every account ({len(rows)})")
    check({r["Id"] for r in rows} >= {r["Id"] for r in page["records"]},
          "Bulk 1.0 rows are the REST rows")

    data = [{"Name": "simple-salesforce bulk 1"}, {"Name": "simple-salesforce bulk 2"}]
    results = sf.bulk.Account.insert(data, batch_size=10000)
    check(len(results) == 2 and all(r["success"] and r["created"] for r in results),
          f"Bulk 1.0 insert ({results})")
    for r, d in zip(results, data):
        got = sf.query(f"SELECT Name FROM Account WHERE Id = '{r['id']}'")
        check(got["records"][0]["Name"] == d["Name"], f"inserted {r['id']} reads back")
    after = sf.query("SELECT COUNT() FROM Account")["totalSize"]
    check(after == total + 2, "two more accounts")


if __name__ == "__main__":
    main()
