"""Envelope and template checks at their edges, each added for a mutant `make mutation` left.

Evidence as in `test_envelope.py` (spec §4.1, §4.2: the description is the first element of
the entry's `<content>`, read by a DataContract deserializer that matches namespace and
name) and §4.4 (a WNS template needs the header named exactly `X-WNS-Type`). Where the
service's answer is not recorded, the stand-in refuses (strict).
"""

from __future__ import annotations

from tests.hubclient import CONNECT, HubClient, entry
from tests.localhub.test_envelope import ATOM, DESCRIPTION, wrapped
from tests.localhub.test_reg_views import wns_template

KIND = "AppleRegistrationDescription"


async def test_the_error_points_at_the_offending_element_not_a_later_namesake(
    hub: HubClient,
) -> None:
    nested = f"<{KIND}/>"  # the same name again, later, inside
    wrong_ns = (
        f'\n<{KIND} xmlns="http://schemas.microsoft.com/other">{DESCRIPTION}\n{nested}</{KIND}>'
    )
    answer = await hub.call("POST", "/registrations", wrapped(wrong_ns))
    assert answer.status == 400 and "Error in line 2 position 2." in answer.text, answer.text
    bare = f"<{KIND} {CONNECT}>{DESCRIPTION}\n{nested}</{KIND}>"
    answer = await hub.call("POST", "/registrations", bare)
    assert answer.status == 400 and "Error in line 1 position 2." in answer.text, answer.text
    assert f"Expecting element 'entry' from namespace '{ATOM}'" in answer.text


async def test_only_the_first_element_of_content_is_the_description(hub: HubClient) -> None:
    first_wrong = (
        f'<{KIND} xmlns="http://schemas.microsoft.com/other">{DESCRIPTION}</{KIND}>'
        f"<{KIND} {CONNECT}>{DESCRIPTION}</{KIND}>"
    )
    answer = await hub.call("POST", "/registrations", wrapped(first_wrong))
    assert answer.status == 400
    assert "namespace 'http://schemas.microsoft.com/other'." in answer.text
    assert (await hub.call("GET", "/registrations")).text.count("<entry") == 0


async def test_a_body_not_in_its_declared_charset_is_400_not_500(hub: HubClient) -> None:
    body = entry(KIND, "<Tags>caf\xe9</Tags><DeviceToken>aabb</DeviceToken>").encode("latin-1")
    answer = await hub.call(
        "POST",
        "/registrations",
        body,
        headers={"Content-Type": "application/atom+xml;type=entry;charset=utf-8"},
    )
    assert answer.status == 400, answer.text


async def test_a_header_named_like_x_wns_type_is_not_it(hub: HubClient) -> None:
    for name in ("X-WNS-Types", "X-WNS-Typ", "Y-WNS-Type"):
        header = f"<WnsHeader><Header>{name}</Header><Value>wns/toast</Value></WnsHeader>"
        answer = await hub.call("POST", "/registrations", wns_template(header))
        assert answer.status == 400 and "'X-WNS-Type' is missing" in answer.text, name


async def test_error_positions_are_exact_at_any_column(hub: HubClient) -> None:
    """At the element's name: after `<` for an element, after `</` for an end element (the
    XmlReader's line info); two paddings, so columns of both parities are checked."""
    for tags in ("a", "ab", "abc"):
        body = entry(KIND, f"<Tags>{tags}</Tags>")
        answer = await hub.call("POST", "/registrations", body)
        column = body.index(f"</{KIND}>") + 3
        assert f"Error in line 1 position {column}. 'EndElement' '{KIND}'" in answer.text, tags
        inner = f"<Endpoint>https://e.example/{tags}</Endpoint><Auth>a</Auth><P256DH>k</P256DH>"
        body = entry("BrowserRegistrationDescription", inner)
        answer = await hub.call("POST", "/registrations", body)
        column = body.index("<Auth>") + 2
        assert f"Error in line 1 position {column}. 'Element' 'Auth'" in answer.text, tags


async def test_other_atom_elements_before_content_are_ignored(hub: HubClient) -> None:
    """The service reads the entry's `<content>`; SDKs put `<id>`, `<updated>` before it
    (real-clients.md §2), and Atom allows `<author>`, `<category>`, `<title>` there too."""
    extra = "<author><name>app</name></author><category term='x'/><title>t</title><id/>"
    body = entry(KIND, DESCRIPTION).replace("<content", extra + "<content")
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 200, answer.text


async def test_an_entry_with_an_empty_content_says_so(hub: HubClient) -> None:
    body = wrapped("")
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 400
    assert (
        "<Detail>Failed to parse RegistrationDescription entry has no content element with a "
        "description.TrackingId:" in answer.text
    )


async def test_an_optional_element_out_of_order_does_not_hide_the_required_ones(
    hub: HubClient,
) -> None:
    """`Tags` after `PushVariables` is out of DataContract order: dropped, and the
    `DeviceToken` after it is still read (§4.2; `test_reg_views.py` has the order rules)."""
    inner = (
        '<PushVariables>{"a":"b"}</PushVariables><Tags>late</Tags><DeviceToken>aabb</DeviceToken>'
    )
    answer = await hub.call("POST", "/registrations", entry(KIND, inner))
    assert answer.status == 200, answer.text
    [device] = answer.devices()
    assert device.handle == "AABB" and device.tags == ()


async def test_the_handle_alone_is_a_description(hub: HubClient) -> None:
    """Every element before the handle is optional (§4.3): `<DeviceToken>` alone is read."""
    answer = await hub.call(
        "POST", "/registrations", entry(KIND, "<DeviceToken>aabb</DeviceToken>")
    )
    assert answer.status == 200, answer.text
    assert answer.devices()[0].handle == "AABB"


async def test_a_second_description_in_content_is_not_read(hub: HubClient) -> None:
    """The description is the content's first element, as the envelope check reads it; what
    the service makes of a second one is not recorded, and the stand-in ignores it."""
    two = (
        f"<{KIND} {CONNECT}><DeviceToken>aa01</DeviceToken></{KIND}>"
        f"<{KIND} {CONNECT}><DeviceToken>aa02</DeviceToken></{KIND}>"
    )
    answer = await hub.call("POST", "/registrations", wrapped(two))
    assert answer.status == 200, answer.text
    assert [d.handle for d in answer.devices()] == ["AA01"]


async def test_a_feed_is_not_an_entry(hub: HubClient) -> None:
    feed = wrapped(f"<{KIND} {CONNECT}>{DESCRIPTION}</{KIND}>").replace(
        f'<entry xmlns="{ATOM}">', f'<feed xmlns="{ATOM}"><entry>'
    )
    answer = await hub.call("POST", "/registrations", feed.replace("</entry>", "</entry></feed>"))
    assert answer.status == 400
    assert (
        f"Expecting element 'entry' from namespace '{ATOM}'.. "
        "Encountered 'Element'  with name 'feed'" in answer.text
    )


async def test_an_empty_handle_is_an_invalid_description(hub: HubClient) -> None:
    for handle in ("", "   "):
        body = entry(KIND, f"<Tags>a</Tags><DeviceToken>{handle}</DeviceToken>")
        answer = await hub.call("POST", "/registrations", body)
        assert answer.status == 400, handle
        assert "<Detail>The specified resource description is invalid..TrackingId:" in answer.text
