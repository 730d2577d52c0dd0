#!/usr/bin/env python3
"""Walk through the SkillPath API over plain HTTP, as an outside client would.

Python standard library only (no Django, no requests). Against a running server with data:

    DATABASE_URL=sqlite:////tmp/api_demo.sqlite3 python manage.py migrate
    DATABASE_URL=sqlite:////tmp/api_demo.sqlite3 python manage.py seed_demo \\
        --members 300 --courses 200 --interactions 5000
    DATABASE_URL=sqlite:////tmp/api_demo.sqlite3 python manage.py runserver 127.0.0.1:8765
    python docs/api_walkthrough.py --base http://127.0.0.1:8765

Steps: sign up through the site's form (with its CSRF token), obtain an API token, answer the
onboarding questionnaire (after seeing an unknown title refused), fetch recommendations with
their reasons, post a batch of events and replay it (stored once), dismiss a recommended course
and check it is gone from the next recommendations. Exits non-zero at the first surprise.
"""

import argparse
import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid


class Client:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.token: str | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        form: dict | None = None,
        accept: str = "application/json",
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {"Accept": accept}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token and path.startswith("/api/"):
            headers["Authorization"] = f"Token {self.token}"
        request = urllib.request.Request(
            self.base + path, data=data, headers=headers, method=method
        )
        try:
            with self.opener.open(request) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, method: str, path: str, body: object = None, expect: int = 200) -> dict:
        status, _, content = self.request(method, path, body=body)
        payload = json.loads(content) if content else {}
        check(status == expect, f"{method} {path} answered {status}, expected {expect}: {payload}")
        return payload

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.cookies if cookie.name == name)


def check(condition: bool, message: str) -> None:
    if not condition:
        print(f"FAILED: {message}")
        sys.exit(1)


def step(title: str) -> None:
    print(f"\n== {title}")


def shown_ids(page: dict) -> set[int]:
    return {item["course"]["id"] for c in page["carousels"] for item in c["courses"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    args = parser.parse_args()
    client = Client(args.base)

    step("Sign up through the site (form with CSRF token)")
    status, _, html = client.request("GET", "/accounts/signup/")
    check(status == 200, f"signup page answered {status}")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    check(match is not None, "no CSRF token in the signup form")
    username = f"walker{uuid.uuid4().hex[:8]}"
    password = "walk-the-api-" + uuid.uuid4().hex[:12]
    status, _, _ = client.request(
        "POST",
        "/accounts/signup/",
        form={
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": username,
            "email": f"{username}@example.com",
            "password1": password,
            "password2": password,
        },
    )
    check(status == 200, f"signup answered {status}")
    print(f"signed up as {username}")

    step("Obtain an API token")
    refused = client.request(
        "POST", "/api/v1/auth/token/", body={"username": username, "password": "wrong"}
    )
    check(refused[0] == 400, f"a wrong password answered {refused[0]}")
    print("wrong password:", json.loads(refused[2]))
    issued = client.json(
        "POST", "/api/v1/auth/token/", {"username": username, "password": password}
    )
    check(set(issued) == {"token", "expires"}, f"unexpected token answer {issued}")
    client.token = issued["token"]
    me = client.json("GET", "/api/v1/me/")
    check(me["username"] == username and me["needs_onboarding"], f"unexpected profile {me}")
    print(f"token {client.token[:8]}… expires {issued['expires']}")
    print(f"needs_onboarding={me['needs_onboarding']}")

    step("Onboarding: an unknown title is refused with field errors, then real answers")
    skills = [
        client.json("GET", f"/api/v1/skills/?q={query}")["results"][:1]
        for query in ("python", "sql")
    ]
    check(all(skills), "the catalog has no Python or SQL skill")
    skills = [found[0] for found in skills]
    skill_ids = [skill["id"] for skill in skills]
    bad = client.json(
        "PUT",
        "/api/v1/me/onboarding/",
        {"title": "Astronaut of the Deep", "skills": []},
        expect=400,
    )
    print("refused:", json.dumps(bad))
    titles = client.json("GET", "/api/v1/titles/?q=analyst")
    check(bool(titles), "no job title contains 'analyst'")
    answers = client.json(
        "PUT",
        "/api/v1/me/onboarding/",
        {"title": titles[0]["name"], "seniority": "mid", "skills": skill_ids},
    )
    check(sorted(answers["skills"]) == sorted(skill_ids), f"followed skills are {answers}")
    print(f"title {answers['title']!r}, following {[skill['name'] for skill in skills]}")

    step("Recommendations with their reasons")
    page = client.json("GET", "/api/v1/recommendations/")
    check(bool(page["carousels"]), "no carousels")
    for carousel in page["carousels"]:
        top = ", ".join(
            f"#{item['rank']} {item['course']['title']} ({item['score']:.2f})"
            for item in carousel["courses"][:3]
        )
        print(f"[{carousel['reason']} | {carousel['key']}] {carousel['label']}: {top}")
    print(f"page_view_id {page['page_view_id']}")
    follow = client.json("GET", "/api/v1/recommendations/?reason=follow&limit=2")
    check(
        all(c["reason"] == "follow" and len(c["courses"]) <= 2 for c in follow["carousels"]),
        "?reason=follow&limit=2 was not applied",
    )

    step("Post a batch of events, then replay it")
    first = page["carousels"][0]["courses"][0]["course"]
    batch = [
        {
            "event_id": str(uuid.uuid4()),
            "type": "click",
            "course_id": first["id"],
            "page_view_id": page["page_view_id"],
        },
        {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": first["id"]},
        {"event_id": str(uuid.uuid4()), "type": "watch", "course_id": first["id"], "value": 40},
        {"event_id": str(uuid.uuid4()), "type": "bookmark", "course_id": first["id"]},
        {"event_id": str(uuid.uuid4()), "type": "enrol", "course_id": 999999999},
    ]
    result = client.json("POST", "/api/v1/events/", {"events": batch})
    print("first post:", {k: result[k] for k in ("accepted", "duplicate", "rejected")})
    print("  rejected:", [r for r in result["results"] if r["status"] == "rejected"])
    check((result["accepted"], result["rejected"]) == (4, 1), f"unexpected result {result}")
    replay = client.json("POST", "/api/v1/events/", {"events": batch})
    print("replayed:", {k: replay[k] for k in ("accepted", "duplicate", "rejected")})
    check(
        (replay["accepted"], replay["duplicate"], replay["rejected"]) == (0, 4, 1),
        f"the replay was not recognised: {replay}",
    )
    learning = client.json("GET", "/api/v1/me/learning/")
    progress = {e["course"]["id"]: e["progress_percent"] for e in learning["in_progress"]}
    check(progress.get(first["id"]) == 40, f"progress after the replay is {progress}")
    check(
        [b["course"]["id"] for b in learning["bookmarked"]] == [first["id"]],
        "the bookmark is not there exactly once",
    )
    print(f"'{first['title']}': progress 40 %, bookmarked once")

    step("Dismiss a recommended course; it is gone from the next recommendations")
    page = client.json("GET", "/api/v1/recommendations/")
    victim = page["carousels"][0]["courses"][0]["course"]
    dismissed = client.json(
        "POST",
        "/api/v1/events/",
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "type": "dismiss",
                    "course_id": victim["id"],
                    "page_view_id": page["page_view_id"],
                }
            ]
        },
    )
    check(dismissed["accepted"] == 1, f"dismiss was not accepted: {dismissed}")
    after = client.json("GET", "/api/v1/recommendations/")
    check(victim["id"] not in shown_ids(after), "the dismissed course is still recommended")
    print(f"dismissed '{victim['title']}'; next recommendations no longer show it")

    step("Errors keep one shape; docs render")
    status, _, content = client.request("GET", "/api/v1/courses/abc/")
    print(f"GET /api/v1/courses/abc/ -> {status} {content.decode()}")
    check(status == 404, "a non-numeric course id did not answer 404")
    schema = client.json("GET", "/api/schema/?format=json")
    print(f"/api/schema/ -> OpenAPI {schema['openapi']}, {len(schema['paths'])} paths")
    status, headers, content = client.request("GET", "/api/docs/", accept="text/html")
    check(status == 200 and b"swagger-ui" in content, f"/api/docs/ answered {status}")
    print(f"/api/docs/ -> {status} ({headers.get('Content-Type')})")
    print("\nWalkthrough completed.")


if __name__ == "__main__":
    main()
