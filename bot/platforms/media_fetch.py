"""Downloading the media of stored messages, in the inbox worker (never in the webhook's answer path).

A message with media is stored with status ``fetch``; before handling
messages, the inbox worker (and the scheduler's ``process_inbox`` sweep)
claims each such message, downloads every picture or file from its platform
(docs/platforms.md §media), checks and cleans it (``models.media_safety``),
stores it (``models.media``) and hands the message to the handlers with the
attachment ids, or with the reason something was refused, so the parent is
told and the text of the matter is never lost. A platform failure that may
pass (network, 5xx, rate limit) is tried again with backoff up to
``media.fetch_attempts``; expired media (WeCom/OA 40007, a DingTalk
downloadCode refused) is given up at once.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import requests

from bot.exceptions import PermanentSendError, SendError, TransientSendError
from bot.platforms.common.downloads import read_capped
from models import inbound, media
from models.media_safety import MediaRefused, check

log = logging.getLogger(__name__)


def fetch_pending(app_ext: Any, session: Any, now: dt.datetime | None = None) -> int:
    """Download the media of every message due for it; return how many messages were settled or put back."""
    done, fixed = 0, now
    while True:
        now = fixed or app_ext.now()
        record = inbound.claim_fetch(session, now)
        session.commit()  # the claim is visible to other workers; no transaction stays open during downloads
        if record is None:
            return done
        record_id = record.id
        try:
            _fetch(app_ext, session, record, now)
            session.commit()
        except TransientSendError as exc:
            session.rollback()
            record = session.get(inbound.InboundRecord, record_id)
            if not inbound.fetch_later(record, now, app_ext.settings.media.fetch_attempts):
                log.warning("media of inbound %s given up after retries: %s", record_id, exc)
                inbound.fetched(record, [], "download_failed")
            session.commit()
        except Exception:  # a bug must not lose the message: hand it on with what we know
            session.rollback()
            log.exception("fetching media of inbound %s failed", record_id)
            record = session.get(inbound.InboundRecord, record_id)
            inbound.fetched(record, [], "download_failed")
            session.commit()
        done += 1


def _fetch(app_ext: Any, session: Any, record: inbound.InboundRecord, now: dt.datetime) -> None:
    settings = app_ext.settings
    ids: list[int] = []
    refused: str | None = None
    for ref in (record.envelope or {}).get("media") or []:
        try:
            data, name = download(app_ext, session, record, ref)
            row = media.save(session, settings, check(data, media.limits(settings)), school_id=record.school_id,
                             now=now, name=name or str(ref.get("name") or ""), inbound_id=record.id)
            ids.append(row.id)
        except MediaRefused as exc:
            log.info("media of inbound %s refused: %s", record.id, exc.reason)
            refused = refused or exc.reason
        except PermanentSendError as exc:
            log.info("media of inbound %s unavailable: %s", record.id, exc)
            # The platform no longer gives the file (expired media, a refused downloadCode): ask again.
            refused = refused or ("download_failed" if exc.code in ("no_credentials", "unknown_media") else "expired")
    inbound.fetched(record, ids, refused)


def download(app_ext: Any, session: Any, record: inbound.InboundRecord, ref: Mapping[str, Any]) -> tuple[bytes, str]:
    """Return (bytes, file name) of one media reference of a stored message, from its platform."""
    from bot.platforms.common.tokens import DBTokenStorage
    from bot.platforms.common.wechatpy_client import download_media
    from models.platform_state import school_code

    settings, api = app_ext.settings, app_ext.settings.platform_api
    cap = settings.media.max_bytes
    code = school_code(session, record.school_id) if record.school_id else None
    creds = settings.platforms.get(code or "")
    if creds is None:
        raise PermanentSendError("no credentials for the message's school", "no_credentials")
    storage = DBTokenStorage(session, app_ext.now)
    platform = record.platform
    if platform in ("wecom_app", "wecom_kf", "wechat") and ref.get("media_id"):
        if platform == "wechat" and creds.wechat is not None:
            from bot.platforms.wechat.client import OfficialAccountClient

            client: Any = OfficialAccountClient(creds.wechat.app_id, creds.wechat.secret, base_url=api.wechat_api,
                                                session=storage, timeout=api.timeout_seconds)
        else:
            from bot.platforms.wecom_app.client import WeComClient

            section = creds.wecom_kf if platform == "wecom_kf" else creds.wecom
            if section is None:
                raise PermanentSendError(f"no {platform} credentials", "no_credentials")
            client = WeComClient(section.corp_id, section.secret, base_url=api.wecom_api, session=storage,
                                 timeout=api.timeout_seconds)
        return download_media(client, str(ref["media_id"]), cap)
    if platform == "dingtalk" and ref.get("download_code") and creds.dingtalk is not None:
        from bot.platforms.dingtalk.client import DingTalkClient

        d = creds.dingtalk
        robot = str(ref.get("robot_code") or d.robot_code or d.app_key)
        client = DingTalkClient(d.app_key, d.app_secret, robot, storage=storage, base_url=api.dingtalk_api,
                                timeout=api.timeout_seconds, oapi_url=api.dingtalk_oapi)
        return client.download_message_file(str(ref["download_code"]), cap), str(ref.get("name") or "")
    if platform == "wecom_aibot" and ref.get("url") and creds.wecom_aibot is not None:
        key = str(ref.get("aeskey") or "") or creds.wecom_aibot.aes_key
        return decrypt_aibot(_get(str(ref["url"]), cap + 32, api.timeout_seconds), key), str(ref.get("name") or "")
    raise PermanentSendError(f"no way to download {platform} media", "unknown_media")


def _get(url: str, max_bytes: int, timeout: float) -> bytes:
    try:
        res = requests.get(url, stream=True, timeout=timeout)
    except requests.RequestException as exc:
        raise TransientSendError(f"{type(exc).__name__}: {exc}"[:300], "network") from exc
    if res.status_code >= 400:
        res.close()
        if res.status_code >= 500 or res.status_code == 429:
            raise TransientSendError(f"HTTP {res.status_code}", f"http_{res.status_code}")
        raise PermanentSendError(f"HTTP {res.status_code}", f"http_{res.status_code}")
    return read_capped(res, max_bytes)


def decrypt_aibot(data: bytes, encoding_aes_key: str) -> bytes:
    """Decrypt an AI-bot media file: AES-256-CBC, key = base64(EncodingAESKey + "="), IV = its first 16 bytes.

    The plaintext is padded with PKCS#7 to a multiple of 32 bytes (as the
    callback bodies are); a file that does not decrypt is refused as broken.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        key = base64.b64decode(encoding_aes_key + "=" * (-len(encoding_aes_key) % 4))
    except ValueError:
        raise PermanentSendError("bad AI-bot aes key", "bad_key") from None
    if len(key) != 32 or not data or len(data) % 16:
        raise MediaRefused("broken", "not an AES-CBC body")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        raise MediaRefused("broken", "bad padding")
    return plain[:-pad]


def encrypt_aibot(data: bytes, encoding_aes_key: str) -> bytes:
    """Encrypt like the AI bot does (the fake platform in the tests)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(encoding_aes_key + "=" * (-len(encoding_aes_key) % 4))
    pad = 32 - len(data) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()


__all__ = ["SendError", "decrypt_aibot", "download", "encrypt_aibot", "fetch_pending"]
