"""Secrets known by the field that holds them: a hub description's keys and every push
credential, in the PnsCredential `<Property>` shape, as elements and as JSON members."""

from __future__ import annotations

import pytest

from proxy.redact import fields

CREDENTIALS = {
    "ApnsCredential": [("Endpoint", "api.push.apple.com", False), ("Token", "APNS-P8", True),
                       ("KeyId", "KEYID12345", False), ("AppId", "TEAM123456", False),
                       ("AppName", "com.contoso.app", False)],
    "GcmCredential": [("GoogleApiKey", "AIzaGOOGLE", True)],
    "FcmV1Credential": [("PrivateKey", "-----BEGIN PRIVATE KEY-----\nFCM\n-----END", True),
                        ("ProjectId", "contoso-app", False),
                        ("ClientEmail", "sa@contoso.iam.gserviceaccount.com", False)],
    "WnsCredential": [("PackageSid", "ms-app://s-1-15-2", False), ("SecretKey", "WNSSECRET", True)],
    "MpnsCredential": [("MpnsCertificate", "MIIMPNS", True), ("CertificateKey", "MPNSPWD", True)],
    "AdmCredential": [("ClientId", "amzn1.app", False), ("ClientSecret", "ADMSECRET", True)],
    "BaiduCredential": [("BaiduApiKey", "BAIDUAPI", True), ("BaiduSecretKey", "BAIDUSECRET", True)],
    "BrowserCredential": [("Subject", "mailto:ops@contoso.com", False),
                          ("VapidPublicKey", "BPUBLICKEY", False),
                          ("VapidPrivateKey", "VAPIDPRIVATE", True)],
}  # fmt: skip


def hub_description() -> str:
    """A NotificationHubDescription as the service returns it (rules and credentials)."""
    creds = "".join(
        f"<{kind}><Properties>"
        + "".join(
            f"<Property><Name>{name}</Name><Value>{value}</Value></Property>"
            for name, value, _ in props
        )
        + f"</Properties></{kind}>"
        for kind, props in CREDENTIALS.items()
    )
    return (
        '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
        '<NotificationHubDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/'
        'servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f'{creds}<AuthorizationRules><AuthorizationRule i:type="SharedAccessAuthorizationRule">'
        "<ClaimType>SharedAccessKey</ClaimType><ClaimValue>None</ClaimValue>"
        "<KeyName>DefaultFullSharedAccessSignature</KeyName>"
        "<PrimaryKey>PRIMARYKEY1=</PrimaryKey><SecondaryKey>SECONDARYKEY2=</SecondaryKey>"
        "</AuthorizationRule></AuthorizationRules></NotificationHubDescription></content></entry>"
    )


def test_hub_description_keeps_only_what_is_not_secret() -> None:
    out = fields.scrub(hub_description())
    assert "PRIMARYKEY1" not in out and "SECONDARYKEY2" not in out
    assert "<PrimaryKey>[redacted]</PrimaryKey>" in out
    assert "<KeyName>DefaultFullSharedAccessSignature</KeyName>" in out
    assert "<ClaimType>SharedAccessKey</ClaimType>" in out
    for kind, props in CREDENTIALS.items():
        for name, value, secret in props:
            assert (value not in out) == secret, (kind, name)


def test_prefixed_elements_cdata_and_case() -> None:
    text = (
        "<a:PrimaryKey>ONE</a:PrimaryKey><secondarykey><![CDATA[TWO]]></secondarykey>"
        "<ns:Property><ns:Value>THREE</ns:Value><ns:Name> GoogleApiKey </ns:Name></ns:Property>"
    )
    out = fields.scrub(text)
    assert not {"ONE", "TWO", "THREE"} & set(out.replace("<", " ").replace(">", " ").split())
    assert "<a:PrimaryKey>[redacted]</a:PrimaryKey>" in out


def test_json_members_by_name() -> None:
    text = (
        '{"primaryKey": "K1", "SecondaryKey":"K2", "properties": {"apnsCertificate": "C",'
        ' "certificateKey": "P\\"W", "keyId": "KID", "googleApiKey": "G"}, "name": "hub"}'
    )
    out = fields.scrub(text)
    for secret in ('"K1"', '"K2"', '"C"', 'P\\"W', '"G"'):
        assert secret not in out
    assert '"keyId": "KID"' in out and '"name": "hub"' in out


@pytest.mark.parametrize(
    "text",
    [
        "<entry><DeviceToken>ABCDEF</DeviceToken><Tags>key,secret</Tags></entry>",
        '{"installationId": "i1", "pushChannel": "token", "tags": ["primaryKey"]}',
        "<KeyName>DefaultListenSharedAccessSignature</KeyName>",
        "<PrimaryKey/>",
    ],
)
def test_other_fields_are_untouched(text: str) -> None:
    assert fields.scrub(text) == text
