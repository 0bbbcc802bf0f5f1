"""Re-signing in reverse mode: a token the app signed for the proxy becomes one for the hub.

An SDK pointed at the proxy signs its SAS token for the address it calls; the hub
checks that the token names the host it is called as, and refuses the proxy's name
(401 InvalidAudience). With the rule's key in memory, the proxy re-signs exactly the
tokens the hub would have accepted had the app called it directly: the token verifies
under a key it holds (its own `sr`, HMAC, not expired, `skn` = that rule) and its `sr`
names the host the proxy was called as. The new token keeps `skn`, `se`, field order
and the client's `sr` byte for byte but for the host. Anything else — a bad signature,
an expired token, a rule without a key, a third host — is forwarded unchanged for the
hub to judge. Only tokens are parsed here, and only when a key is held.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from yarl import URL

from proxy import sas
from proxy.exchange import Headers
from proxy.signing import Signer, retarget

__all__ = ["AudienceAdvice", "Decision", "Resigner"]

log = logging.getLogger("hubscope.proxy")

AUTHORIZATION = "authorization"
FIXES = (
    "give hubscope the rule's key so it re-signs tokens for the hub "
    '(hubscope proxy --connection-string "Endpoint=…;SharedAccessKeyName=…;SharedAccessKey=…"), '
    "or run `hubscope proxy --forward` and set HTTPS_PROXY in the app so it keeps its real "
    "endpoint"
)


def _hostname(value: str) -> str:
    try:
        return urlsplit(f"//{value}").hostname or value.lower()
    except ValueError:
        return value.lower()


def audience_host(token: sas.SasToken) -> str | None:
    """The host a token's `sr` names, lower-cased; None when `sr` is not a URL."""
    try:
        return urlsplit((token.audience or "").strip()).hostname
    except ValueError:
        return None


def _authorization(headers: Headers) -> tuple[int, str] | None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == AUTHORIZATION:
            return index, value
    return None


@dataclass(frozen=True, slots=True)
class Decision:
    """What to send upstream: new headers and the stored verdict, or why not."""

    headers: Headers | None = None
    verdict: str | None = None
    why_not: str = ""


class Resigner:
    """Holds the keys (`--connection-string`, memory only) and the upstream's host."""

    def __init__(self, keys: Mapping[str, str], upstream: str) -> None:
        target = URL(upstream)
        self.host = (target.host or "").lower()
        self.port = target.explicit_port
        self._signers = {name: Signer(name, key) for name, key in keys.items()}

    def __repr__(self) -> str:
        return f"Resigner(host={self.host!r}, rules={sorted(self._signers)!r})"

    @property
    def rules(self) -> list[str]:
        return sorted(self._signers)

    def decide(self, headers: Headers, called_host: str, *, now: float | None = None) -> Decision:
        """Re-sign the request's token for the upstream, or say why it is left alone."""
        found = _authorization(headers)
        token = sas.parse_token(found[1]) if found else None
        if found is None or token is None:
            return Decision(why_not="the request has no SharedAccessSignature token")
        if token.sr is None or token.sig is None or token.se is None or token.skn is None:
            return Decision(why_not="the token is missing sr, sig, se or skn")
        named = audience_host(token)
        if named == self.host:
            return Decision(why_not=f"the token already names {self.host}")
        if named != _hostname(called_host):
            return Decision(
                why_not=f"the token names {named}, neither hubscope ({called_host}) nor the hub"
            )
        signer = self._signers.get(unquote(token.skn))
        if signer is None:
            return Decision(
                why_not=f"it is signed with rule {unquote(token.skn)!r}, whose key hubscope "
                f"does not hold (it holds {', '.join(self.rules)})"
            )
        expiry = token.expiry
        if expiry is None or expiry < (time.time() if now is None else now):
            return Decision(why_not="the token has expired")
        if not signer.verifies(token):
            return Decision(
                why_not=f"its signature does not verify under the key hubscope holds for "
                f"{signer.key_name!r} (another key, or a token made by hand)"
            )
        sr = retarget(token.sr, self.host, self.port)
        if sr is None:
            return Decision(why_not="its sr is not a URL")
        index, _ = found
        replaced = (
            *headers[:index],
            (headers[index][0], signer.resign(token, sr)),
            *headers[index + 1 :],
        )
        return Decision(
            headers=replaced,
            verdict=f"valid; re-signed by hubscope for {unquote(sr)} "
            f"(the client signed for {token.audience})",
        )


class AudienceAdvice:
    """One actionable log line per kind of `401 InvalidAudience` the hub answers."""

    def __init__(self, upstream: str, resigner: Resigner | None) -> None:
        self.upstream = upstream
        self.resigner = resigner
        self._said: set[tuple[str | None, str]] = set()

    def refused(self, headers: Headers, called_host: str, body: bytes) -> None:
        """Call on every 401; logs when the hub said InvalidAudience and it is news."""
        if b"InvalidAudience" not in body:
            return
        found = _authorization(headers)
        token = sas.parse_token(found[1]) if found else None
        named = audience_host(token) if token else None
        if self.resigner is None:
            why = ""
        else:
            why = self.resigner.decide(headers, called_host).why_not
        if (named, why) in self._said or len(self._said) > 100:
            return
        self._said.add((named, why))
        upstream = URL(self.upstream).host
        if why:
            log.warning(
                "%s refused a token signed for %s (401 InvalidAudience); hubscope did not "
                "re-sign it because %s.",
                upstream,
                named,
                why,
            )
            return
        log.warning(
            "%s refused a token signed for %s (401 InvalidAudience): the app signed it for the "
            "address it called, hubscope, and the hub accepts only tokens for %s. To fix it, %s.",
            upstream,
            named,
            upstream,
            FIXES,
        )
