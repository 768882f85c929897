"""WeChat-family callback crypto (WeCom app, 微信客服, AI bot, Official Account).

wechatpy decrypts but neither checks timestamp freshness nor compares
signatures in constant time; this module does both before calling it, and
turns every wechatpy or XML error into a ``Reject`` (403 or 400) so no
wechatpy exception leaves ``bot/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import struct
from collections.abc import Iterator, Mapping
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto as CorpCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from bot.platforms.common.webhook import WECHAT_MAX_SKEW, Reject, check_fresh, same

_FORBIDDEN_XML = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")


def signature(*parts: str) -> str:
    """Return sha1 of the sorted parts joined (the WeChat-family signature)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def verify(token: str, given: str, timestamp: str, nonce: str, now: dt.datetime, *extra: str) -> None:
    """Check freshness and the signature (constant time); 403 otherwise."""
    check_fresh(timestamp, now, WECHAT_MAX_SKEW)
    if not given or not same(signature(token, timestamp, nonce, *extra), given):
        raise Reject(403, "bad signature")


@contextlib.contextmanager
def crypto_errors() -> Iterator[None]:
    """Map wechatpy's crypto and parsing errors to 403 / 400."""
    try:
        yield
    except (InvalidSignatureException, InvalidCorpIdException, InvalidAppIdException) as exc:
        raise Reject(403, type(exc).__name__) from None
    except (ExpatError, KeyError, IndexError, ValueError, TypeError, struct.error, AssertionError) as exc:
        raise Reject(400, f"undecodable payload ({type(exc).__name__})") from None


def parse_xml(data: bytes | str) -> dict[str, Any]:
    """Parse a callback XML document's ``<xml>`` element; refuse DTDs and entities (400)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip() or any(marker in raw for marker in _FORBIDDEN_XML):
        raise Reject(400, "empty body or XML with a DTD")
    with crypto_errors():
        doc = xmltodict.parse(raw, disable_entities=True)
    root = doc.get("xml") if isinstance(doc, Mapping) else None
    if not isinstance(root, Mapping):
        raise Reject(400, "no <xml> root")
    return dict(root)


def encrypt_json(token: str, aes_key: str, receive_id: str, plain: str, nonce: str, timestamp: str
                 ) -> dict[str, str]:
    """Return a passive reply as the AI bot expects it: ``{encrypt, msgsignature, timestamp, nonce}``."""
    fields = parse_xml(CorpCrypto(token, aes_key, receive_id).encrypt_message(plain, nonce, timestamp))
    return {"encrypt": str(fields["Encrypt"]), "msgsignature": str(fields["MsgSignature"]),
            "timestamp": str(fields["TimeStamp"]), "nonce": str(fields["Nonce"])}


def decrypt(token: str, aes_key: str, receive_id: str, encrypt: str, args: Mapping[str, str],
            now: dt.datetime, crypto_class: type = CorpCrypto) -> str:
    """Verify and decrypt an ``Encrypt`` value with the query's msg_signature/timestamp/nonce.

    ``receive_id`` is the CorpID (WeCom app, kf), "" (AI bot) or the AppID (OA);
    the crypto class (enterprise, or ``wechatpy.crypto.WeChatCrypto`` for the
    OA) checks it after decrypting (403 on mismatch).
    """
    if not encrypt:
        raise Reject(400, "no Encrypt")
    sig, ts, nonce = args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    verify(token, sig, ts, nonce, now, encrypt)
    with crypto_errors():
        plain = crypto_class(token, aes_key, receive_id).decrypt_message({"Encrypt": encrypt}, sig, ts, nonce)
    return plain.decode("utf-8") if isinstance(plain, bytes) else str(plain)


def echo(token: str, aes_key: str, receive_id: str, args: Mapping[str, str], now: dt.datetime) -> str:
    """Answer a WeCom URL check: the decrypted echostr, exactly."""
    return decrypt(token, aes_key, receive_id, args.get("echostr", ""), args, now)


def decrypt_xml(token: str, aes_key: str, receive_id: str, body: bytes, args: Mapping[str, str],
                now: dt.datetime, crypto_class: type = CorpCrypto) -> tuple[str, dict[str, Any]]:
    """Return the plaintext and fields of an encrypted ``<xml><Encrypt/>…</xml>`` callback body."""
    outer = parse_xml(body)
    plain = decrypt(token, aes_key, receive_id, str(outer.get("Encrypt") or ""), args, now, crypto_class)
    return plain, parse_xml(plain)
