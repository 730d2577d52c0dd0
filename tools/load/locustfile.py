"""The site's hot paths under load: logged-in homepage, recommendations API, course pages and
event batches. Driven by `tools/load/run_loadtest.py` (`make loadtest`), which writes the
credentials file this reads; run it through that script, not on its own.

Every response is checked for content, not only for its status: a 200 with an empty homepage
or an event batch with a rejected event counts as a failure.
"""

import itertools
import json
import os
import random
import uuid
from pathlib import Path

from locust import FastHttpUser, between, task

SETUP = json.loads(Path(os.environ["LOADTEST_CREDENTIALS"]).read_text())
MIN_CAROUSELS = int(os.environ.get("LOADTEST_MIN_CAROUSELS", "1"))
# Share of event batches the client sends a second time, as a client retrying after a timeout
# would; the replay must answer every event `duplicate`.
REPLAY_SHARE = 0.2

_member_numbers = itertools.count()


class Learner(FastHttpUser):
    """One signed-in member: a session cookie for the site, a token for the API."""

    # Think time between a member's requests; the user count sets the offered load.
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        members = SETUP["members"]
        me = members[next(_member_numbers) % len(members)]
        self.site_headers = {"Cookie": f"sessionid={me['session']}"}
        self.api_headers = {"Authorization": f"Token {me['token']}"}
        self.username = me["username"]
        self.course_slugs = SETUP["course_slugs"]
        self.page_view_id: str | None = None
        # (course id, slot) of each card of the last API answer.
        self.shown: list[tuple[int, int]] = []
        # Locust starts every user's first task at the same instant: ten requests at once on
        # two cores took 50-150 ms each, a burst no steady load has, and enough of an
        # endpoint's slowest twentieth to set its p95. Members arrive over one think time.
        self.wait()

    @task(4)
    def homepage(self) -> None:
        with self.client.get(
            "/", headers=self.site_headers, name="home /", catch_response=True
        ) as response:
            body = response.text or ""
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif f"Welcome back, {self.username}" not in body:
                response.failure("not the signed-in homepage")
            elif body.count('class="carousel"') < MIN_CAROUSELS:
                response.failure("fewer carousels than expected")

    @task(4)
    def recommendations_api(self) -> None:
        with self.client.get(
            "/api/v1/recommendations/",
            headers=self.api_headers,
            name="api recommendations",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            page = response.json()
            full = [c for c in page["carousels"] if c["courses"]]
            if len(full) < MIN_CAROUSELS:
                response.failure(f"{len(full)} carousels with courses")
                return
            self.page_view_id = page["page_view_id"]
            self.shown = [
                (card["course"]["id"], card["slot"]) for c in full for card in c["courses"]
            ]

    @task(3)
    def course_page(self) -> None:
        slug = random.choice(self.course_slugs)
        with self.client.get(
            f"/courses/{slug}/",
            headers=self.site_headers,
            name="course page",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(1)
    def event_batch(self) -> None:
        if not self.shown:
            self.recommendations_api()
            if not self.shown:
                return
        (clicked, slot), (started, _) = random.sample(self.shown, 2)
        events = [
            {
                "type": "click",
                "course_id": clicked,
                "page_view_id": self.page_view_id,
                "slot": slot,
            },
            {"type": "enrol", "course_id": started, "page_view_id": self.page_view_id},
            {"type": "watch", "course_id": started, "value": random.randint(5, 60)},
            {"type": "bookmark", "course_id": clicked},
            {"type": "unbookmark", "course_id": clicked},
        ]
        batch = {"events": [{"event_id": str(uuid.uuid4()), **event} for event in events]}
        self._post_events(batch, expect="accepted", name="api events")
        if random.random() < REPLAY_SHARE:
            self._post_events(batch, expect="duplicate", name="api events (replay)")
        # A click needs a fresh impression; the next batch uses the next page view.
        self.shown = []

    def _post_events(self, batch: dict, *, expect: str, name: str) -> None:
        with self.client.post(
            "/api/v1/events/",
            json=batch,
            headers=self.api_headers,
            name=name,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            statuses = {result["status"] for result in response.json()["results"]}
            if statuses != {expect}:
                response.failure(f"expected all {expect}, got {sorted(statuses)}")
