"""classify(): method + URL (+ If-Match) to an Operation."""

from __future__ import annotations

import pytest

from proxy.model import Op
from proxy.operations import classify


@pytest.mark.parametrize(
    ("method", "url", "if_match", "expected"),
    [
        ("POST", "/myhub/registrations?api-version=2020-06", None, Op.CREATE_REGISTRATION),
        ("POST", "/myhub/registrations/?api-version=2015-01", None, Op.CREATE_REGISTRATION),
        ("POST", "/myhub/Registrations", None, Op.CREATE_REGISTRATION),
        ("PUT", "/h/registrations/1-2-3?api-version=2020-06", None,
         Op.CREATE_OR_UPDATE_REGISTRATION),
        ("PUT", "/h/registrations/1-2-3?api-version=2020-06", "", Op.CREATE_OR_UPDATE_REGISTRATION),
        ("PUT", "/h/registrations/1-2-3?api-version=2020-06", '"1"', Op.UPDATE_REGISTRATION),
        ("PUT", "/h/registrations/1-2-3", 'W/"3"', Op.UPDATE_REGISTRATION),
        ("PUT", "/h/registrations/1-2-3/", "*", Op.UPDATE_REGISTRATION),
        ("POST", "/h/registrationIDs?api-version=2020-06", None, Op.CREATE_REGISTRATION_ID),
        ("POST", "/h/registrationids/", None, Op.CREATE_REGISTRATION_ID),
        ("post", "https://ns.servicebus.windows.net/h/REGISTRATIONIDS/?api-version=2015-01", None,
         Op.CREATE_REGISTRATION_ID),
        ("GET", "/h/registrations/1-2-3?api-version=2020-06", None, Op.READ_REGISTRATION),
        ("DELETE", "/h/registrations/1-2-3?api-version=2020-06", "*", Op.DELETE_REGISTRATION),
        ("GET", "/h/registrations?api-version=2020-06&$top=10", None, Op.LIST_REGISTRATIONS),
        ("GET", "/h/tags/a/registrations?api-version=2020-06", None, Op.LIST_REGISTRATIONS_BY_TAG),
        ("GET", "/h/Registrations/?$filter=ChannelUri+eq+%27x%27", None,
         Op.LIST_REGISTRATIONS_BY_CHANNEL),
        ("GET", "/h/registrations?api-version=2020-06&%24filter=DeviceToken+eq+%27AB%27", None,
         Op.LIST_REGISTRATIONS_BY_CHANNEL),
        ("PUT", "/h/installations/i1?api-version=2020-06", None,
         Op.CREATE_OR_OVERWRITE_INSTALLATION),
        ("GET", "/h/installations/i1", None, Op.READ_INSTALLATION),
        ("PATCH", "/h/Installations/i1/", None, Op.PATCH_INSTALLATION),
        ("DELETE", "/h/installations/i1", None, Op.DELETE_INSTALLATION),
        ("POST", "/h/messages/?api-version=2015-04", None, Op.SEND),
        ("POST", "/h/messages?api-version=2020-06&test", None, Op.SEND),
        ("POST", "/h/messages/?direct&api-version=2015-04", None, Op.SEND_DIRECT),
        ("POST", "/h/messages?api-version=2020-06&direct=true", None, Op.SEND_DIRECT),
        ("POST", "/h/messages/$batch?direct&api-version=2015-08", None, Op.SEND_BATCH),
        ("POST", "/h/messages/%24batch?direct&api-version=2015-08", None, Op.SEND_BATCH),
        ("POST", "/h/schedulednotifications/?api-version=2020-06", None, Op.SCHEDULE_SEND),
        ("DELETE", "/h/schedulednotifications/abc?api-version=2020-06", None,
         Op.CANCEL_SCHEDULED_SEND),
        ("GET", "/h/messages/abc-20240101-1-1?api-version=2016-07", None, Op.READ_NOTIFICATION),
        # Everything else, including wrong methods on known routes.
        ("GET", "/h/jobs?api-version=2020-06", None, Op.UNKNOWN),
        ("GET", "/h/messages/$batch", None, Op.UNKNOWN),
        ("POST", "/h/feedbackcontainer", None, Op.UNKNOWN),
        ("PATCH", "/h/registrations/1", None, Op.UNKNOWN),
        ("POST", "/h/installations/i1", None, Op.UNKNOWN),
        ("GET", "/h/registrations/1/extra", None, Op.UNKNOWN),
        ("DELETE", "/h/registrations", None, Op.UNKNOWN),
        ("GET", "/h", None, Op.UNKNOWN),
        ("GET", "/", None, Op.UNKNOWN),
        ("GET", "", None, Op.UNKNOWN),
    ],
)
def test_route(method: str, url: str, if_match: str | None, expected: Op) -> None:
    assert classify(method, url, if_match=if_match).name is expected


def test_hub_id_and_api_version() -> None:
    op = classify("GET", "https://ns.servicebus.windows.net/My-Hub/registrations/8017-1325-1"
                  "?api-version=2017-04")
    assert (op.hub, op.resource_id, op.api_version) == ("My-Hub", "8017-1325-1", "2017-04")


def test_installation_id_is_percent_decoded() -> None:
    op = classify("PUT", "/h/installations/inst%201%2Fa?api-version=2020-06")
    assert op.resource_id == "inst 1/a"


def test_tag_is_percent_decoded() -> None:
    op = classify("GET", "/h/tags/%24UserId%3A%7Balice%7D/registrations?api-version=2020-06")
    assert op.name is Op.LIST_REGISTRATIONS_BY_TAG
    assert op.resource_id == "$UserId:{alice}"


@pytest.mark.parametrize("name", ["continuationtoken", "ContinuationToken", "CONTINUATIONTOKEN"])
def test_paging_token_kept_verbatim(name: str) -> None:
    op = classify("GET", f"/h/registrations?api-version=2017-04&$top=2&{name}=MzEobik7Mg%3D%3D")
    assert op.top == 2
    assert op.continuation_token == "MzEobik7Mg%3D%3D"


def test_filter_is_decoded() -> None:
    token = "00FC13ADFF785122B4AD28809A3420982341241421348097878E577C991DE8F0"
    url = f"/myhub/registrations?api-version=2020-06&%24filter=DeviceToken+eq+%27{token}%27"
    op = classify("GET", url)
    assert op.filter == f"DeviceToken eq '{token}'"


def test_bad_top_is_none() -> None:
    assert classify("GET", "/h/registrations?$top=abc").top is None
    assert classify("GET", "/h/registrations?$top=-1").top is None


def test_unknown_keeps_hub_and_version() -> None:
    op = classify("GET", "/h/jobs/1?api-version=2020-06")
    assert (op.name, op.hub, op.api_version, op.resource_id) == (Op.UNKNOWN, "h", "2020-06", None)


def test_double_slashes_and_whitespace_tolerated() -> None:
    op = classify(" get ", "//h//registrations//?api-version=1")
    assert (op.name, op.hub) == (Op.LIST_REGISTRATIONS, "h")
    assert classify("GET", "/h//registrations/").name is Op.LIST_REGISTRATIONS
