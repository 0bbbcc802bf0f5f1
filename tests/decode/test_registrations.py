"""Atom registration entries and feeds, and `<Error>` bodies, to records."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy import store
from proxy.decode import decode_body
from proxy.exchange import Exchange, Message, new_id
from proxy.model import DecodedBody, Op, Operation, Platform, Template
from proxy.recording.recorder import Recorder

SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CREATE = Operation(name=Op.CREATE_REGISTRATION, hub="h")
ATOM_CT = "application/atom+xml;type=entry;charset=utf-8"


def entry(inner: str, root: str, *, typed: bool = False, envelope: str = "") -> bytes:
    """An Atom entry around one description, in either root form."""
    if typed:
        open_tag = f'<RegistrationDescription i:type="{root}" xmlns:i="{XSI}" xmlns="{SB}">'
        close_tag = "</RegistrationDescription>"
    else:
        open_tag, close_tag = f'<{root} xmlns:i="{XSI}" xmlns="{SB}">', f"</{root}>"
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<entry xmlns="http://www.w3.org/2005/Atom">{envelope}'
        f'<content type="application/xml">{open_tag}{inner}{close_tag}</content></entry>'
    ).encode()


def decode(body: bytes, content_type: str | None = ATOM_CT) -> DecodedBody:
    result = decode_body(body, content_type, operation=CREATE, direction="request")
    assert result.decode_error is None, result.decode_error
    return result


HANDLES = {
    "Windows": ("<ChannelUri>https://db5.notify.windows.com/?token=A%2b</ChannelUri>",
                Platform.WNS, "https://db5.notify.windows.com/?token=A%2b"),
    "Apple": ("<DeviceToken>00FC13</DeviceToken>", Platform.APNS, "00FC13"),
    "Gcm": ("<GcmRegistrationId>gcm-1</GcmRegistrationId>", Platform.GCM, "gcm-1"),
    "FcmV1": ("<FcmV1RegistrationId>fcm-1</FcmV1RegistrationId>", Platform.FCMV1, "fcm-1"),
    "Mpns": ("<ChannelUri>http://s.notify.live.net/u/1</ChannelUri>", Platform.MPNS,
             "http://s.notify.live.net/u/1"),
    "Adm": ("<AdmRegistrationId>amzn1.adm</AdmRegistrationId>", Platform.ADM, "amzn1.adm"),
    "Baidu": ("<BaiduUserId>u1</BaiduUserId><BaiduChannelId>c1</BaiduChannelId>",
              Platform.BAIDU, "u1-c1"),
    "Browser": ("<Endpoint>https://push.example/e1</Endpoint><P256DH>BPkey</P256DH>"
                "<Auth>secret</Auth>", Platform.BROWSER, "https://push.example/e1"),
    "Xiaomi": ("<XiaomiRegistrationId>mi-1</XiaomiRegistrationId>", Platform.XIAOMI, "mi-1"),
}
KINDS = [(p, t) for p in HANDLES for t in (False, True)]


@pytest.mark.parametrize(("prefix", "template"), KINDS)
@pytest.mark.parametrize("typed", [False, True], ids=["element", "i:type"])
def test_all_kinds_both_root_forms(prefix: str, template: bool, typed: bool) -> None:
    handle_xml, platform, handle = HANDLES[prefix]
    source_type = f"{prefix}{'Template' if template else ''}RegistrationDescription"
    inner = f"<Tags>a,b</Tags>{handle_xml}"
    if template:
        inner += '<BodyTemplate><![CDATA[{"x":"$(m)"}]]></BodyTemplate>'
        inner += "<TemplateName>t</TemplateName>"
    (device,) = decode(entry(inner, source_type, typed=typed)).devices
    assert device.kind == "registration"
    assert device.source_type == source_type
    assert device.platform is platform
    assert device.handle == handle
    assert device.tags == ("a", "b")
    if template:
        assert device.templates == (Template(name="t", body='{"x":"$(m)"}'),)
    else:
        assert device.templates == ()


def test_baidu_and_browser_extras() -> None:
    (baidu,) = decode(entry(HANDLES["Baidu"][0] + "<BodyTemplate>b</BodyTemplate>"
                            "<MessageType>1</MessageType>",
                            "BaiduTemplateRegistrationDescription")).devices
    assert baidu.extra == (("BaiduUserId", "u1"), ("BaiduChannelId", "c1"), ("MessageType", "1"))
    (browser,) = decode(entry(HANDLES["Browser"][0], "BrowserRegistrationDescription")).devices
    assert browser.extra == (("P256DH", "BPkey"), ("Auth", "secret"))


def test_baidu_js_order_still_user_then_channel() -> None:
    inner = "<BaiduChannelId>c1</BaiduChannelId><BaiduUserId>u1</BaiduUserId>"
    (device,) = decode(entry(inner, "BaiduRegistrationDescription")).devices
    assert device.handle == "u1-c1"
    assert device.elements == ("BaiduChannelId", "BaiduUserId")


def test_fcm_sdk_names_decode_as_gcm_with_a_note() -> None:
    for name in ("FcmRegistrationDescription", "FcmTemplateRegistrationDescription"):
        result = decode(entry("<GcmRegistrationId>g</GcmRegistrationId>", name))
        (device,) = result.devices
        assert (device.platform, device.source_type, device.handle) == (Platform.GCM, name, "g")
        assert any("wire name is Gcm" in n for n in result.notes)


def test_nil_whitespace_and_request_envelope_variants() -> None:
    inner = """
        <ETag i:nil="true"/>
        <RegistrationId i:nil="true"/>
        <Tags> myTag, myOtherTag ,, </Tags>
        <DeviceToken>
            ABCDEF
        </DeviceToken>
        <BodyTemplate><![CDATA[ {"aps":{}} ]]></BodyTemplate>
        <Expiry i:nil="true"/>
        <TemplateName i:nil="true"/>
    """
    envelope = "<id>urn:x</id><updated>2014-01-01T00:00:00Z</updated>"
    body = entry(inner, "AppleTemplateRegistrationDescription", typed=True, envelope=envelope)
    body = body.replace(b'type="application/xml"', b'type="text/xml"')
    (device,) = decode(body).devices
    assert device.registration_id is None and device.etag is None
    assert device.tags == ("myTag", "myOtherTag")
    assert device.handle == "ABCDEF"
    assert device.templates == (Template(name=None, body=' {"aps":{}} ', expiry=None),)
    assert device.elements == ("ETag", "RegistrationId", "Tags", "DeviceToken", "BodyTemplate",
                               "Expiry", "TemplateName")


def test_template_headers_expiry_priority() -> None:
    inner = (
        "<DeviceToken>AB</DeviceToken><BodyTemplate>{}</BodyTemplate><Expiry>$(e)</Expiry>"
        "<TemplateName>n</TemplateName><Priority>10</Priority><ApnsHeaders><ApnsHeader>"
        "<Header>apns-push-type</Header><Value>alert</Value></ApnsHeader></ApnsHeaders>"
    )
    (device,) = decode(entry(inner, "AppleTemplateRegistrationDescription")).devices
    assert device.templates == (
        Template(name="n", body="{}", headers=(("apns-push-type", "alert"),), expiry="$(e)",
                 priority="10"),
    )
    inner = (
        "<ChannelUri>https://c</ChannelUri><BodyTemplate>&lt;toast/&gt;</BodyTemplate>"
        "<WnsHeaders><WnsHeader><Header>X-WNS-Type</Header><Value>wns/toast</Value></WnsHeader>"
        "<WnsHeader><Header>X-WNS-Tag</Header><Value>t</Value></WnsHeader></WnsHeaders>"
    )
    (device,) = decode(entry(inner, "WindowsTemplateRegistrationDescription")).devices
    assert device.templates[0].body == "<toast/>"
    assert device.templates[0].headers == (("X-WNS-Type", "wns/toast"), ("X-WNS-Tag", "t"))
    assert device.elements[-1] == "WnsHeaders"


def test_unescaped_markup_in_body_template_is_kept_with_a_note() -> None:
    inner = "<ChannelUri>https://c</ChannelUri><BodyTemplate><toast>hi</toast></BodyTemplate>"
    result = decode(entry(inner, "WindowsTemplateRegistrationDescription"))
    assert "<toast" in (result.devices[0].templates[0].body or "")
    assert any("BodyTemplate contains XML elements" in n for n in result.notes)


def test_special_tags_give_installation_and_user() -> None:
    inner = "<Tags>$InstallationId:{inst-1},$UserId:{alice},x</Tags><DeviceToken>AB</DeviceToken>"
    (device,) = decode(entry(inner, "AppleRegistrationDescription")).devices
    assert (device.installation_id, device.user_id) == ("inst-1", "alice")


KESTREL_ENTRY = (
    '<entry p1:etag="W/&quot;7&quot;" xmlns:p1="http://schemas.microsoft.com/ado/2007/08/'
    'dataservices/metadata" xmlns="http://www.w3.org/2005/Atom"><id>https://ns.servicebus.'
    'windows.net/hub/resources/111-222-3?api-version=2020-06</id><content type="application/'
    f'xml"><AppleRegistrationDescription xmlns:i="{XSI}" xmlns="{SB}"><DeviceToken>AB'
    "</DeviceToken></AppleRegistrationDescription></content></entry>"
)


def test_entry_attribute_etag_and_resources_id_fallbacks() -> None:
    (device,) = decode(KESTREL_ENTRY.encode(), "application/xml").devices
    assert device.etag == "7"
    assert device.registration_id == "111-222-3"


def test_etag_element_wins_over_attribute() -> None:
    body = KESTREL_ENTRY.replace("<DeviceToken>", "<ETag>2</ETag><RegistrationId>r</RegistrationId>"
                                 "<DeviceToken>")
    (device,) = decode(body.encode()).devices
    assert (device.etag, device.registration_id) == ("2", "r")


def test_feed_gives_one_device_per_entry() -> None:
    entries = "".join(
        f'<entry a:etag="W/&quot;{i}&quot;" xmlns:a="http://schemas.microsoft.com/ado/2007/08/'
        f'dataservices/metadata"><content type="application/xml"><GcmRegistrationDescription '
        f'xmlns="{SB}"><RegistrationId>r{i}</RegistrationId><GcmRegistrationId>g{i}'
        "</GcmRegistrationId></GcmRegistrationDescription></content></entry>"
        for i in range(3)
    )
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Registrations</title>{entries}</feed>'
    devices = decode(body.encode()).devices
    assert [(d.registration_id, d.handle, d.etag) for d in devices] == [
        ("r0", "g0", "0"), ("r1", "g1", "1"), ("r2", "g2", "2")
    ]


def test_empty_feed_and_bare_description() -> None:
    assert decode(b'<feed xmlns="http://www.w3.org/2005/Atom"/>').devices == ()
    bare = f'<AppleRegistrationDescription xmlns="{SB}"><DeviceToken>AB</DeviceToken>'
    result = decode((bare + "</AppleRegistrationDescription>").encode())
    assert result.format == "atom"
    assert result.devices[0].handle == "AB"


def test_unknown_description_type_still_decodes() -> None:
    result = decode(entry("<Tags>a</Tags><Handle>h</Handle>", "NokiaXRegistrationDescription"))
    (device,) = result.devices
    assert device.platform is Platform.UNKNOWN
    assert device.extra == (("Handle", "h"),)
    assert any("unknown registration type" in n for n in result.notes)


def test_push_variables_and_expiration_kept_as_text() -> None:
    inner = ("<ExpirationTime>9999-12-31T23:59:59.9999999Z</ExpirationTime>"
             '<PushVariables>{"var1":"value1"}</PushVariables><DeviceToken>A</DeviceToken>')
    (device,) = decode(entry(inner, "AppleRegistrationDescription")).devices
    assert device.push_variables == '{"var1":"value1"}'
    assert device.expiration == "9999-12-31T23:59:59.9999999Z"


def test_latin1_body_from_java() -> None:
    inner = "<Tags>caf\u00e9</Tags><DeviceToken>AB</DeviceToken>"
    body = entry(inner, "AppleRegistrationDescription").decode().encode("latin-1")
    result = decode(body, "application/atom+xml; charset=ISO-8859-1")
    assert result.devices[0].tags == ("caf\u00e9",)
    assert any("declares encoding" in n for n in result.notes)
    declared = body.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    assert decode(declared, "application/atom+xml").devices[0].tags == ("caf\u00e9",)


def test_bom_and_utf16() -> None:
    body = entry("<DeviceToken>AB</DeviceToken>", "AppleRegistrationDescription")
    assert decode(b"\xef\xbb\xbf" + body).devices[0].handle == "AB"
    utf16 = body.decode().replace('encoding="utf-8"', 'encoding="utf-16"').encode("utf-16")
    assert decode(utf16).devices[0].handle == "AB"


@pytest.mark.parametrize(
    ("detail", "message", "tracking"),
    [
        ("Installation not found.TrackingId:cc8c4f9b-1_G3,TimeStamp:11/7/2018 12:18:37 AM",
         "Installation not found.", "cc8c4f9b-1_G3"),
        (".TrackingId:33e8ef5f-b183_G8,TimeStamp:8/14/2019 4:58:19 AM", "", "33e8ef5f-b183_G8"),
        ("No service is hosted at the specified address..TrackingId:3ef5_G21,TimeStamp:x",
         "No service is hosted at the specified address.", "3ef5_G21"),
        ("The mandatory HTTP header 'X-WNS-Type' is missing.",
         "The mandatory HTTP header 'X-WNS-Type' is missing.", None),
    ],
)
def test_error_body(detail: str, message: str, tracking: str | None) -> None:
    body = f"<Error><Code>404</Code><Detail>{detail}</Detail></Error>".encode()
    result = decode_body(body, "application/xml; charset=utf-8", operation=CREATE,
                         direction="response")
    assert result.format == "error"
    assert result.error is not None
    assert (result.error.code, result.error.detail, result.error.tracking_id) == (
        "404", message, tracking
    )


def test_unknown_charset_parameter_is_ignored_with_a_note() -> None:
    body = entry("<DeviceToken>AB</DeviceToken>", "AppleRegistrationDescription")
    result = decode(body, "application/atom+xml; charset=x-bogus")
    assert result.devices[0].handle == "AB"
    assert result.notes == ("ignored unknown charset 'x-bogus' in Content-Type",)


def test_typed_root_with_undeclared_xsi_prefix() -> None:
    body = entry("<GcmRegistrationId>g</GcmRegistrationId>", "GcmRegistrationDescription",
                 typed=True).replace(f' xmlns:i="{XSI}"'.encode(), b"")
    broken = decode_body(b"<entry>&x;</entry>", ATOM_CT, operation=CREATE, direction="request")
    assert broken.decode_error  # an earlier failure must not leak into the retry decision
    result = decode(body)
    assert result.devices[0].source_type == "GcmRegistrationDescription"
    assert result.devices[0].handle == "g"
    assert result.notes[0].startswith("not namespace-well-formed")


FCM_BETA = Path(__file__).parent / "data" / "fcm-registration.xml"


def test_fcm_registration_description_of_the_js_beta_has_its_handle(tmp_path: Path) -> None:
    """`FcmRegistrationDescription` with `FcmRegistrationId` (JS 1.0.0-beta, sdk-for-js#23149)."""
    [device] = decode(FCM_BETA.read_bytes()).devices
    handle = "ep01PgF....someData...jshvzD:..someData..."
    assert (device.platform, device.handle, device.extra) == (Platform.GCM, handle, ())
    assert device.tags == ("user:tagNumber",)
    template = entry(
        "<FcmRegistrationId>tok</FcmRegistrationId><BodyTemplate>{}</BodyTemplate>",
        "FcmTemplateRegistrationDescription",
    )
    assert decode(template).devices[0].handle == "tok"

    db = tmp_path / "hubscope.db"  # handle search finds the device
    recorder = Recorder(db, session="beta")
    recorder.start()
    recorder.submit(
        Exchange(id=new_id(), session="beta", started_at=1.0, duration_ms=1.0, method="POST",
                 url="https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06",
                 request=Message(headers=(("Content-Type", ATOM_CT),), body=FCM_BETA.read_bytes()),
                 status=400, response=Message(headers=(), body=b""))  # fmt: skip
    )
    recorder.close()
    conn = store.connect(db, readonly=True)
    found = list(conn.query("select platform, extra from devices where handle = ?", [handle]))
    conn.conn.close()
    assert found == [{"platform": "gcm", "extra": None}]  # FcmRegistrationId is not an extra
