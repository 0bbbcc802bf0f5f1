"""How to make each SDK's platform trust hubscope's local CA: text for `hubscope ca` and banners."""

from __future__ import annotations

import shlex
from pathlib import Path

__all__ = ["connection_string", "hints", "instructions"]


def connection_string(host: str, port: int) -> str:
    """The Endpoint an app uses to reach hubscope over HTTPS (`sb://` becomes `https://`)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"Endpoint=sb://{shown}:{port}/;SharedAccessKeyName=…;SharedAccessKey=…"


def hints(ca: Path) -> list[str]:
    """One line per ecosystem, short enough for a start-up banner."""
    q = shlex.quote(str(ca))
    return [
        f"Node:    NODE_EXTRA_CA_CERTS={q} node app.js",
        f"Python:  SSL_CERT_FILE={q} (httpx, ssl)  REQUESTS_CA_BUNDLE={q} (requests)",
        f".NET:    sudo cp {q} /usr/local/share/ca-certificates/hubscope.crt "
        "&& sudo update-ca-certificates   (Windows: certutil -addstore -user Root FILE)",
        f"Java:    keytool -importcert -cacerts -alias hubscope -file {q} "
        "-storepass changeit -noprompt",
        "Android, iOS and details: hubscope ca",
    ]


def instructions(ca: Path) -> str:
    """The full trust guide printed by `hubscope ca`."""
    q = shlex.quote(str(ca))
    return f"""\
hubscope's local CA certificate:
  {ca}

Only this machine has its private key (mode 0600, next to the certificate). Trust it
only in development clients; remove the trust when you are done.

Either keep the app's connection string and run it with
HTTPS_PROXY=http://127.0.0.1:8080 against `hubscope proxy --forward`, or point its
Endpoint at `hubscope proxy --tls` with Endpoint=sb://127.0.0.1:8443/ (the SDKs turn
sb:// into https://), keeping the key name, key and hub name, and give the proxy the
key with --connection-string so it re-signs the app's tokens for the hub. Either way
the app must trust this CA:

Node (@azure/notification-hubs):
  NODE_EXTRA_CA_CERTS={q} node app.mjs

Python (ssl, aiohttp, httpx, azure-notification-hub-unofficial):
  SSL_CERT_FILE={q} python app.py
Python (requests, notificationhubs-rest-python):
  REQUESTS_CA_BUNDLE={q} python app.py
  (both replace the default bundle; to keep public CAs too, concatenate:
   cat "$(python -m certifi)" {q} > bundle.pem)

.NET (Microsoft.Azure.NotificationHubs):
  Linux:   sudo cp {q} /usr/local/share/ca-certificates/hubscope.crt
           sudo update-ca-certificates
  macOS:   sudo security add-trusted-cert -d -r trustRoot \\
             -k /Library/Keychains/System.keychain {q}
  Windows: certutil -addstore -user Root {q}    (or, as administrator: certutil -addstore Root)

Java (com.windowsazure:Notification-Hubs-java-sdk):
  keytool -importcert -cacerts -alias hubscope -file {q} -storepass changeit -noprompt
  or per run, with a trust store of its own:
  keytool -importcert -keystore hubscope.p12 -storetype PKCS12 -storepass changeit \\
    -alias hubscope -file {q} -noprompt
  java -Djavax.net.ssl.trustStore=hubscope.p12 -Djavax.net.ssl.trustStorePassword=changeit …

Android (com.microsoft.azure:notification-hubs-android-sdk):
  copy the certificate into the app as res/raw/hubscope_ca.pem, then in
  res/xml/network_security_config.xml (referenced by android:networkSecurityConfig
  in the manifest):
    <network-security-config>
      <debug-overrides>
        <trust-anchors>
          <certificates src="@raw/hubscope_ca"/>
          <certificates src="system"/>
        </trust-anchors>
      </debug-overrides>
    </network-security-config>
  emulator: Endpoint=sb://10.0.2.2:8443/ and start hubscope with --tls-host 10.0.2.2
  device:   adb reverse tcp:8443 tcp:8443, then Endpoint=sb://127.0.0.1:8443/

iOS (WindowsAzureMessaging / NotificationHubs):
  simulator: xcrun simctl keychain booted add-root-cert {q}
  device:    send the file to the device (AirDrop, mail), install the profile in
             Settings > General > VPN & Device Management, then turn on full trust in
             Settings > General > About > Certificate Trust Settings; reach the Mac with
             --tls-listen 0.0.0.0:8443 --tls-host <the Mac's name or LAN address>
"""
