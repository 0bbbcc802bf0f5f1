"""Every file of the real-traffic corpus runs through the decoders, with real values checked."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from proxy.decode import decode_body, decode_exchange
from proxy.model import Decoded, DecodedBody, Device, Op, Operation, PatchOp, Platform
from proxy.operations import classify
from tests.corpus import (
    CORPUS,
    DOTNET_MOCKS,
    JAVA_FIXTURES,
    LOCAL_CAPTURE,
    MockCall,
    http_mocks,
    iter_local_capture,
    iter_recording_entries,
    java_fixtures,
    local_captures,
    read_http_mock,
    recordings,
)

SERVICE_ID = re.compile(r"^\d{15,19}-\d{15,19}-\d$")
TRACKING_ID = re.compile(r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}_G\d+$")
MALFORMED_MOCK = "RegistrationExistsAsync_GetNonExistingRegistration.http"


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


# --- .NET MockData: real responses (2018-2022) -------------------------------------------


def decode_mock(call: MockCall) -> DecodedBody:
    # Requests were not recorded; GET is a fair method for reading the response bodies.
    operation = classify("GET", call.path)
    return decode_body(call.response.body, call.response.header("Content-Type"),
                       operation=operation, direction="response")


def mock_devices(name: str) -> list[Device]:
    calls = read_http_mock(DOTNET_MOCKS / name, lenient=True)
    return [d for call in calls for d in decode_mock(call).devices]


def test_corpus_counts() -> None:
    assert len(http_mocks()) == 74
    assert len(recordings()) == 7
    assert len(local_captures()) == 4
    assert len(java_fixtures()) == 24


@pytest.mark.parametrize("path", http_mocks(), ids=_ids(http_mocks()))
def test_every_mock_response_decodes(path: Path) -> None:
    for call in read_http_mock(path, lenient=True):
        result = decode_mock(call)
        assert result.decode_error is None, (call.source, result.decode_error)
        body = call.response.body.lstrip()
        if not body:
            assert result.format == "empty"
        elif body.startswith(b"<Error"):
            assert result.format == "error" and result.error is not None
            assert result.error.code == str(call.status)
            assert TRACKING_ID.match(result.error.tracking_id or ""), result.error
        elif body.startswith(b"{"):
            (device,) = result.devices
            assert device.kind == "installation"
            assert device.installation_id == classify("GET", call.path).resource_id
            assert result.notes == ("body is JSON but Content-Type is application/xml",)
        else:
            assert result.format == "atom"
            for device in result.devices:
                assert device.platform is not Platform.UNKNOWN
                assert device.handle
                assert device.registration_id is not None
                assert SERVICE_ID.match(device.registration_id) or device.registration_id == (
                    "123-234-1"
                )
                assert device.etag is not None and device.etag.isdigit()
                assert device.expiration is not None
                assert device.expiration.startswith("9999-12-31T23:59:59.")
                assert device.elements[:3] == ("ETag", "ExpirationTime", "RegistrationId")


def test_mock_totals() -> None:
    formats: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for path in http_mocks():
        for call in read_http_mock(path, lenient=True):
            result = decode_mock(call)
            formats[result.format] += 1
            kinds.update(d.source_type for d in result.devices)
    assert formats == {"atom": 148, "empty": 99, "error": 13, "json": 9}
    assert set(kinds) == {
        f"{p}{t}RegistrationDescription"
        for p in ("Apple", "Gcm", "Windows", "Mpns", "Adm", "Baidu") for t in ("", "Template")
    } | {"installation"}
    assert sum(kinds.values()) == 162


PASS_VALID = {
    "AppleNative": ("AppleRegistrationDescription", Platform.APNS,
                    "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA"),
    "AppleTemplate": ("AppleTemplateRegistrationDescription", Platform.APNS,
                      "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA"),
    "GcmNative": ("GcmRegistrationDescription", Platform.GCM, "amzn1.adm-registration.v2.123"),
    "GcmTemplate": ("GcmTemplateRegistrationDescription", Platform.GCM,
                    "amzn1.adm-registration.v2.123"),
    "AdmNative": ("AdmRegistrationDescription", Platform.ADM, "amzn1.adm-registration.v2.123"),
    "AdmTemplate": ("AdmTemplateRegistrationDescription", Platform.ADM,
                    "amzn1.adm-registration.v2.123"),
    "WindowsNative": ("WindowsRegistrationDescription", Platform.WNS, "https://some.url/"),
    "WindowsTemplate": ("WindowsTemplateRegistrationDescription", Platform.WNS,
                        "https://some.url/"),
    "MpnsNative": ("MpnsRegistrationDescription", Platform.MPNS, "https://some.url/"),
    "MpnsTemplate": ("MpnsTemplateRegistrationDescription", Platform.MPNS, "https://some.url/"),
    "BaiduNative": ("BaiduRegistrationDescription", Platform.BAIDU, "userId-channelId"),
    "BaiduTemplate": ("BaiduTemplateRegistrationDescription", Platform.BAIDU,
                      "userId-channelId"),
}


@pytest.mark.parametrize("kind", list(PASS_VALID))
def test_mock_created_registration_of_each_kind(kind: str) -> None:
    source_type, platform, handle = PASS_VALID[kind]
    name = f"CreateRegistrationAsync_PassValid{kind}Registration_GetCreatedRegistrationBack.http"
    devices = [d for d in mock_devices(name) if d.source_type == source_type]
    assert devices, f"no {source_type} in {name}"
    device = devices[-1]
    assert (device.platform, device.handle, device.tags) == (platform, handle, ("tag1",))
    assert device.push_variables == '{"var1":"value1"}'
    if "Template" in source_type:
        (template,) = device.templates
        assert template.name == "Template Name" and template.body
    if platform in (Platform.WNS, Platform.MPNS):
        assert ("SecondaryTileName", "Tile name") in device.extra
    if source_type == "MpnsTemplateRegistrationDescription":
        assert device.templates[0].headers == (("X-NotificationClass", "1"),
                                               ("X-WindowsPhone-Target", "token"))
    if platform is Platform.BAIDU:
        assert device.extra[:2] == (("BaiduUserId", "userId"), ("BaiduChannelId", "channelId"))


def test_mock_installation_templates_and_user() -> None:
    expiry = [d for d in mock_devices("CreateOrUpdateInstallationAsync_CreateInstallation"
                                      "WithExpiryInTemplate_GetCreatedInstallationWithExpiry"
                                      "InTemplateBack.http") if d.kind == "installation"]
    (template,) = expiry[-1].templates
    assert template.name == "Template Name"
    assert template.expiry == "2018-11-07T16:18:32.6641371-08:00"
    assert template.tags == ("Template Name",)
    headers = [d for d in mock_devices("CreateOrUpdateInstallationAsync_CreateInstallation"
                                       "WithHeadersInTemplate_GetCreatedInstallationWithHeaders"
                                       "InTemplateBack.http") if d.kind == "installation"]
    assert headers[-1].platform is Platform.WNS
    assert headers[-1].templates[0].headers == (("X-WNS-Type", "wns/toast"),)
    user = [d for d in mock_devices("CreateOrUpdateInstallationAsync_CreateInstallationWith"
                                    "UserId_GetCreatedInstallationWithUserIdBack.http")
            if d.kind == "installation"]
    assert user[-1].user_id == "d798d460-79d2-449a-b2fc-fa5bf4090f38"
    assert user[-1].push_channel_expired is False
    assert user[-1].elements[:4] == ("installationId", "pushChannel", "pushChannelExpired",
                                     "platform")


def test_mock_installation_backed_registrations_carry_ids() -> None:
    name = ("PatchInstallationAsync_CreateInstallationWithUserIdAndUpdateUserIdThroughPatch_"
            "GetInstallationWithUpdatedUserIdBack.http")
    registration = next(d for d in mock_devices(name) if d.user_id)
    assert registration.installation_id == "69ddbc47-864d-4b90-ac0a-3e5d45655e42"
    assert registration.user_id == "77a8db6e-c1d3-41a3-9aa7-06bfef487a5a"


def test_mock_paging_token_and_filter() -> None:
    name = ("GetAllRegistrationsAsync_UsingTopLessThenNumberOfRegistrations_CorrectContinuation"
            "TokenIsReturnedThatAllowsToReadAllRegistrations.http")
    operations = [classify("GET", c.path) for c in read_http_mock(DOTNET_MOCKS / name)]
    paged = [op for op in operations if op.continuation_token]
    assert [(op.top, op.continuation_token) for op in paged] == [(2, "MzEobik7Mg%3D%3D")]
    name = ("GetRegistrationsByChannelAsync_CreateTwoRegistrationsWithTheSameChannel_"
            "GetCreatedRegistrationsWithRequestedChannel.http")
    by_channel = [classify("GET", c.path) for c in read_http_mock(DOTNET_MOCKS / name)]
    filters = {op.filter for op in by_channel if op.name is Op.LIST_REGISTRATIONS_BY_CHANNEL}
    assert filters == {"ChannelUri eq "
                       "'62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA'"}


def test_malformed_mock_file_says_why() -> None:
    raw = (DOTNET_MOCKS / MALFORMED_MOCK).read_bytes()
    with pytest.raises(json.JSONDecodeError, match="line 79 column 13"):
        read_http_mock(DOTNET_MOCKS / MALFORMED_MOCK)
    result = decode_body(raw, "application/json", operation=Operation(name=Op.UNKNOWN),
                         direction="response")
    assert result.format == "json"
    assert result.decode_error == (
        "failed to parse as JSON: Expecting property name enclosed in double quotes: "
        "line 79 column 13 (char 6884)"
    )
    last = read_http_mock(DOTNET_MOCKS / MALFORMED_MOCK, lenient=True)[-1]
    error = decode_mock(last).error
    assert error is not None
    assert (error.code, error.detail, error.tracking_id) == (
        "404", "", "33e8ef5f-b183-4f11-9ce0-ce01afffd462_G8"
    )


# --- test-proxy recordings: real request/response pairs (2022 HTTP.sys, 2024 Kestrel) ----


def recorded(relative: str) -> list[Decoded]:
    path = CORPUS / relative
    return [decode_exchange(e.method, e.url, e.request, e.status, e.response)
            for e in iter_recording_entries(path)]


@pytest.mark.parametrize(
    "path", recordings(), ids=[str(p.relative_to(CORPUS)) for p in recordings()]
)
def test_every_recording_entry_decodes(path: Path) -> None:
    for entry in iter_recording_entries(path):
        decoded = decode_exchange(entry.method, entry.url, entry.request, entry.status,
                                  entry.response)
        assert decoded.operation.name is not Op.UNKNOWN, entry.source
        assert decoded.operation.hub == "hub_name"
        assert decoded.operation.api_version == "2020-06"
        assert decoded.request.decode_error is None, entry.source
        assert decoded.response is not None and decoded.response.decode_error is None
        if entry.method in ("POST", "PUT") and decoded.operation.name is not (
            Op.CREATE_REGISTRATION_ID
        ):
            assert len(decoded.request.devices) == 1, entry.source
        if entry.method == "DELETE":
            assert decoded.response.format == "empty"


KESTREL = "Azure+azure-sdk-assets/js/notification-hubs/node"
HTTPSYS = "Azure+azure-sdk-for-js/notification-hubs/recordings/node"
TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"


def test_recording_get_registration_kestrel() -> None:
    post, get, delete = recorded(
        f"{KESTREL}/getregistration/recording_should_get_a_registration_by_the_given_"
        "registration_id.json"
    )
    assert post.operation.name is Op.CREATE_REGISTRATION
    (sent,) = post.request.devices
    assert (sent.source_type, sent.platform, sent.handle) == (
        "AppleRegistrationDescription", Platform.APNS, TOKEN)
    assert sent.tags == ("likes_football", "likes_hockey")
    assert sent.elements == ("Tags", "DeviceToken")
    assert (sent.registration_id, sent.etag) == (None, None)
    assert post.response is not None and get.response is not None
    (created,) = post.response.devices
    (read,) = get.response.devices
    rid = "522011013425615958-3496423960844832976-2"
    assert (created.registration_id, created.etag, created.handle) == (rid, "1", TOKEN.upper())
    assert created.expiration == "9999-12-31T23:59:59.9999999"
    assert (read.registration_id, read.expiration) == (rid, "9999-12-31T23:59:59.9999999Z")
    assert get.operation.name is Op.READ_REGISTRATION and get.operation.resource_id == rid
    assert delete.operation.name is Op.DELETE_REGISTRATION


def test_recording_get_registration_httpsys_era() -> None:
    post, get, beta_delete = recorded(
        f"{HTTPSYS}/getregistration/recording_should_get_a_registration_by_the_given_"
        "registration_id.json"
    )
    assert post.response is not None
    (created,) = post.response.devices
    assert (created.registration_id, created.etag) == (
        "6697408331423959588-2655644891200398098-1", "1")
    # The beta SDK sent its delete as a GET with If-Match: *; it reads as a read.
    assert beta_delete.operation.name is Op.READ_REGISTRATION


def test_recording_create_registration_id_then_upsert() -> None:
    new_id, put, get, delete = recorded(
        f"{KESTREL}/createregistrationid/recording_should_get_a_registration_by_the_given_"
        "registration_id.json"
    )
    assert new_id.operation.name is Op.CREATE_REGISTRATION_ID
    assert (new_id.request.format, new_id.response and new_id.response.format) == (
        "empty", "empty")
    assert put.operation.name is Op.CREATE_OR_UPDATE_REGISTRATION
    assert put.operation.resource_id == "3600470869281718653-4685036066143092984-2"
    assert put.response is not None
    assert put.response.devices[0].registration_id == put.operation.resource_id
    assert put.notes == ()


@pytest.mark.parametrize(("folder", "operation", "count"), [
    ("listregistrations", Op.LIST_REGISTRATIONS, 6),
    ("listregistrationsbytag", Op.LIST_REGISTRATIONS_BY_TAG, 7),
])
def test_recording_list_feeds(folder: str, operation: Op, count: int) -> None:
    exchanges = recorded(f"{KESTREL}/{folder}/recording_should_list_all_registrations.json")
    (listing,) = [d for d in exchanges if d.operation.name is operation]
    assert listing.response is not None
    devices = listing.response.devices
    assert len(devices) == count
    assert all(d.registration_id and SERVICE_ID.match(d.registration_id) for d in devices)
    assert all(d.etag and d.etag.isdigit() for d in devices)
    if operation is Op.LIST_REGISTRATIONS_BY_TAG:
        assert listing.operation.resource_id == "likes_football"
        assert all("likes_football" in d.tags for d in devices)
    created = {d.response.devices[0].registration_id for d in exchanges
               if d.operation.name is Op.CREATE_REGISTRATION and d.response}
    assert created <= {d.registration_id for d in devices}


@pytest.mark.parametrize("root", [KESTREL, HTTPSYS])
def test_recording_installation_put(root: str) -> None:
    put, delete = recorded(f"{root}/createorupdateinstallation/recording_should_add_an_"
                           "installation.json")
    assert put.operation.name is Op.CREATE_OR_OVERWRITE_INSTALLATION
    (device,) = put.request.devices
    assert device.installation_id == put.operation.resource_id == (
        "0e7c5973-714c-4ba9-a233-7c4497d5f43b")
    assert (device.platform, device.handle) == (Platform.APNS, TOKEN)
    assert device.tags == ("likes_hockey", "likes_football")
    assert put.response is not None and put.response.format == "empty"
    assert delete.operation.name is Op.DELETE_INSTALLATION


# --- local captures: requests of released clients -----------------------------------------


def captured(relative: str) -> list[Decoded]:
    return [decode_exchange(e.method, e.url, e.request, None, None)
            for e in iter_local_capture(LOCAL_CAPTURE / relative)]


@pytest.mark.parametrize("path", local_captures(), ids=_ids(local_captures()))
def test_every_captured_request_decodes(path: Path) -> None:
    for entry in iter_local_capture(path):
        decoded = decode_exchange(entry.method, entry.url, entry.request, None, None)
        assert decoded.operation.name is not Op.UNKNOWN, entry.source
        assert decoded.operation.hub == "myhub"
        assert decoded.request.decode_error is None, entry.source
        assert decoded.notes == (), entry.source


JS_KINDS = {
    "Apple": (Platform.APNS, TOKEN), "Adm": (Platform.ADM, "amzn1.adm-registration.v3.XXX"),
    "Baidu": (Platform.BAIDU, "user1-chan1"),
    "Browser": (Platform.BROWSER, "https://fcm.googleapis.com/fcm/send/abc:def"),
    "Gcm": (Platform.GCM, "gcmtoken123"), "FcmV1": (Platform.FCMV1, "fcmv1token123"),
    "Windows": (Platform.WNS, "https://db5.notify.windows.com/?token=AwYAAAB%2bXYZ"),
    "Xiaomi": (Platform.XIAOMI, "xiaomi123"),
    "Mpns": (Platform.MPNS, "http://s.notify.live.net/u/1/db3/XYZ"),
}


def test_js_capture_all_eighteen_kinds() -> None:
    creates = [d for d in captured("azure-notification-hubs-js-2.1.0/requests-http.jsonl")
               if d.operation.name is Op.CREATE_REGISTRATION]
    devices = {d.request.devices[0].source_type: d.request.devices[0] for d in creates}
    assert len(devices) == 18
    for prefix, (platform, handle) in JS_KINDS.items():
        for template in ("", "Template"):
            device = devices[f"{prefix}{template}RegistrationDescription"]
            assert (device.platform, device.handle, device.tags) == (platform, handle,
                                                                    ("tagA", "tagB"))
            assert bool(device.templates) == bool(template)
    assert devices["BrowserRegistrationDescription"].extra == (("P256DH", "BPkey"),
                                                               ("Auth", "authsecret"))
    apple_template = devices["AppleTemplateRegistrationDescription"].templates[0]
    assert apple_template.headers == (("apns-priority", "10"), ("apns-push-type", "alert"))
    assert devices["AppleTemplateRegistrationDescription"].elements[-4:] == (
        "BodyTemplate", "TemplateName", "Expiry", "ApnsHeaders")
    assert devices["BaiduRegistrationDescription"].elements[-2:] == ("BaiduChannelId",
                                                                     "BaiduUserId")


def test_js_capture_operations_in_order() -> None:
    names = [d.operation.name for d in captured("azure-notification-hubs-js-2.1.0/"
                                                "requests-http.jsonl")][18:]
    assert names == [
        Op.CREATE_REGISTRATION_ID, Op.CREATE_OR_UPDATE_REGISTRATION, Op.READ_REGISTRATION,
        Op.UPDATE_REGISTRATION, Op.DELETE_REGISTRATION, Op.DELETE_REGISTRATION,
        Op.LIST_REGISTRATIONS, Op.LIST_REGISTRATIONS_BY_TAG, Op.LIST_REGISTRATIONS_BY_CHANNEL,
        *[Op.CREATE_OR_OVERWRITE_INSTALLATION] * 8,
        Op.PATCH_INSTALLATION, Op.READ_INSTALLATION, Op.DELETE_INSTALLATION,
    ]


def test_js_capture_installations_and_patch() -> None:
    decoded = captured("azure-notification-hubs-js-2.1.0/requests-http.jsonl")
    installs = [d.request.devices[0] for d in decoded
                if d.operation.name is Op.CREATE_OR_OVERWRITE_INSTALLATION]
    assert {d.platform for d in installs} == {
        Platform.APNS, Platform.FCMV1, Platform.GCM, Platform.WNS, Platform.BROWSER,
        Platform.XIAOMI, Platform.BAIDU, Platform.ADM}
    assert [d.installation_id for d in installs] == [f"inst-{i}" for i in range(1, 9)]
    first = installs[0]
    assert (first.user_id, first.push_variables) == ("user1", '{"a":"b"}')
    assert first.elements[-1] == "platform"
    browser = next(d for d in installs if d.platform is Platform.BROWSER)
    assert browser.handle == "https://fcm.googleapis.com/fcm/send/abc"
    (patch,) = [d for d in decoded if d.operation.name is Op.PATCH_INSTALLATION]
    assert patch.request.patch == (
        PatchOp(op="add", path="/tags", value="likes_football"),
        PatchOp(op="remove", path="/tags/likes_hockey"),
        PatchOp(op="replace", path="/pushChannel", value="newtoken"),
    )
    update = next(d for d in decoded if d.operation.name is Op.UPDATE_REGISTRATION)
    assert update.request.devices[0].handle == "ABC"


def test_python_clients_capture() -> None:
    unofficial = captured("azure-notification-hub-unofficial-0.1.0/requests.jsonl")
    browser = unofficial[0].request.devices[0]
    assert (browser.platform, browser.installation_id) == (Platform.BROWSER, "inst-py-1")
    assert browser.extra == (("P256DH", "BPkey"), ("Auth", "authsecret"))
    assert unofficial[2].request.patch == (PatchOp(op="add", path="/tags", value="x"),)
    assert unofficial[5].operation.top == 5
    sends = captured("notificationhubs-rest-python-1.0.3/requests.jsonl")
    assert [(d.operation.name, d.operation.api_version, d.request.format) for d in sends] == [
        (Op.SEND, "2015-04", "json"), (Op.SEND_DIRECT, "2015-04", "json")]


# --- Java SDK parser fixtures (hand-written, not traffic) ---------------------------------

JAVA = {
    "AdmNativeRegistrationType": ("AdmRegistrationDescription", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "AdmTemplateRegistrationNoType": ("AdmTemplateRegistrationDescription",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "AppleNativeRegistrationNoType": ("AppleRegistrationDescription",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "AppleNativeRegistrationType": ("AppleRegistrationDescription", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "AppleTemplateRegistrationNoType": ("AppleTemplateRegistrationDescription",
                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "AppleTemplateRegistrationType": ("AppleTemplateRegistrationDescription",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "BaiduNativeRegistrationType": ("BaiduRegistrationDescription", "baidu_user-baidu_channel"),
    "BaiduTemplateRegistrationNoType": ("BaiduTemplateRegistrationDescription",
                                        "baidu_user-baidu_channel"),
    "BrowserNativeRegistration": ("BrowserRegistrationDescription", "foo"),
    "BrowserTemplateRegistration": ("BrowserTemplateRegistrationDescription", "foo"),
    "GcmNativeRegistrationType": ("GcmRegistrationDescription", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "GcmTemplateRegistrationNoType": ("GcmTemplateRegistrationDescription",
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
}
JAVA_DOC_PREFIX = [  # copied from the docs' stale example: undeclared `metadata:` prefix
    "MpnsNativeRegistrationNoType", "MpnsTemplateRegistrationType",
    "WindowsNativeRegistrationNoType", "WindowsNativeRegistrationType",
    "WindowsTemplateRegistrationNoType", "WindowsTemplateRegistrationType",
]


def decode_fixture(name: str) -> DecodedBody:
    return decode_body((JAVA_FIXTURES / name).read_bytes(), None,
                       operation=Operation(name=Op.UNKNOWN), direction="response")


@pytest.mark.parametrize("path", java_fixtures(), ids=_ids(java_fixtures()))
def test_every_java_fixture_decodes(path: Path) -> None:
    result = decode_fixture(path.name)
    assert result.decode_error is None
    assert result.devices or result.patch


@pytest.mark.parametrize("name", list(JAVA))
def test_java_registration_fixture(name: str) -> None:
    source_type, handle = JAVA[name]
    result = decode_fixture(name)
    (device,) = result.devices
    assert (device.source_type, device.handle) == (source_type, handle)
    assert device.registration_id == "8372532420827572008-85883004107185159-4"
    assert device.tags[0] == "myTag"
    assert result.notes == ()


@pytest.mark.parametrize("name", JAVA_DOC_PREFIX)
def test_java_fixture_with_undeclared_prefix_is_decoded_with_a_note(name: str) -> None:
    result = decode_fixture(name)
    (device,) = result.devices
    assert device.platform in (Platform.WNS, Platform.MPNS)
    assert device.handle and device.handle.startswith(("https://bn1.notify", "http://dm2"))
    (note,) = result.notes
    assert note.startswith("not namespace-well-formed (Namespace prefix metadata on etag")


def test_java_collection_and_installations() -> None:
    collection = decode_fixture("RegistrationCollection")
    assert [d.source_type for d in collection.devices] == [
        "WindowsRegistrationDescription", "WindowsTemplateRegistrationDescription",
        "AppleRegistrationDescription", "AppleTemplateRegistrationDescription"]
    assert [d.etag for d in collection.devices] == ["3", "5", "3", "3"]
    (browser,) = decode_fixture("InstallationBrowser").devices
    assert (browser.handle, browser.extra) == ("foo", (("P256DH", "bar"), ("Auth", "baz")))
    assert browser.push_channel_expired is True
    (wns,) = decode_fixture("InstallationWnsFull").devices
    assert wns.extra[0][0] == "secondaryTiles"
    assert wns.templates[0].headers == (("h1", "v1"),)
    (minimal,) = decode_fixture("InstallationMinimal").devices
    assert (minimal.platform, minimal.handle) == (Platform.GCM, "qwe")
    patch = decode_fixture("PartialUpdatesNoSpaces").patch
    assert [(p.op, p.path) for p in patch] == [
        ("add", "/templates/template1"), ("remove", "/remove/path"),
        ("replace", "/replace/path")]
    assert patch[0].value == '{"body":"{\\"data\\":{\\"key1\\":\\"value\\"}}"}'
