"""Attachments: safe-to-keep checks, metadata removal, and both stores on both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from models import media
from models.media_safety import HEIC, Limits, MediaRefused, check, sniff
from models.tickets import Ticket
from tests import media_samples as samples


def _exif(data: bytes) -> Image.Exif:
    return Image.open(io.BytesIO(data)).getexif()


def test_a_phone_photo_comes_out_without_its_gps_position() -> None:
    sent = samples.photo(gps=True, trailer=b"MPF second picture with Exif GPS")
    assert samples.GPS_IFD in _exif(sent)
    kept = check(sent)
    assert kept.mime == "image/jpeg"
    exif = _exif(kept.data)
    assert samples.GPS_IFD not in exif and 0x010F not in exif, "no position, no camera"
    assert b"secret comment" not in kept.data and b"MPF second" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).size == (640, 480)


def test_the_photo_keeps_its_orientation_and_nothing_else() -> None:
    kept = check(samples.photo(orientation=6))
    assert dict(_exif(kept.data)) == {0x0112: 6}


def test_png_text_chunks_are_dropped() -> None:
    sent = samples.png("GPS 39.9,116.4")
    kept = check(sent)
    assert b"GPS 39.9" in sent and b"GPS 39.9" not in kept.data
    assert Image.open(io.BytesIO(kept.data)).size == (32, 32)


def test_webp_is_reencoded_without_metadata() -> None:
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (40, 30), (9, 9, 9)).save(buf, "WEBP", exif=exif)
    kept = check(buf.getvalue())
    assert kept.mime == "image/webp" and b"PhoneMaker" not in kept.data


@pytest.mark.skipif(not HEIC, reason="pillow-heif not installed")
def test_an_iphone_heic_photo_becomes_a_clean_jpeg() -> None:
    import pillow_heif

    image = Image.new("RGB", (64, 48), (30, 60, 90))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buf = io.BytesIO()
    pillow_heif.from_pillow(image).save(buf, exif=exif.tobytes())
    kept = check(buf.getvalue())
    assert kept.mime == "image/jpeg" and kept.ext == "jpg"
    assert b"PhoneMaker" not in kept.data


@pytest.mark.parametrize(("data", "reason"), [
    (samples.photo()[:2000], "broken"),  # cut off in the middle
    (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "broken"),
    (b"MZ\x90\x00 a windows program", "bad_type"),
    (b"<html><script>alert(1)</script>", "bad_type"),
    (samples.pdf(b"/OpenAction<</S/JavaScript/JS(app.alert(1))>>"), "script"),
    (samples.pdf()[:-7], "broken"),
    (samples.docx(extra={"word/vbaProject.bin": b"macro"}), "script"),
    (samples.zip_bomb(20_000_000), "zip_bomb"),
    (b"PK\x03\x04 not really a zip", "broken"),
    (b"", "broken"),
])
def test_what_is_refused_and_why(data: bytes, reason: str) -> None:
    with pytest.raises(MediaRefused) as refused:
        check(data, Limits(max_unzipped_bytes=10_000_000))
    assert refused.value.reason == reason


def test_oversize_is_refused_before_anything_is_read() -> None:
    with pytest.raises(MediaRefused) as refused:
        check(b"\xff\xd8\xff" + b"\0" * 2000, Limits(max_bytes=1000))
    assert refused.value.reason == "too_big"


def test_a_picture_with_absurd_dimensions_is_refused_before_decoding() -> None:
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")
    with pytest.raises(MediaRefused) as refused:
        check(buf.getvalue(), Limits(max_pixels=50_000_000))
    assert refused.value.reason == "too_big"


@pytest.mark.parametrize(("data", "mime"), [
    (samples.pdf(), "application/pdf"),
    (samples.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"#!AMR\n" + b"\x3c" * 40, "audio/amr"),
    (b"\x02#!SILK_V3" + b"\x01" * 40, "audio/silk"),
    (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "video/mp4"),
])
def test_accepted_files_keep_their_bytes(data: bytes, mime: str) -> None:
    kept = check(data)
    assert kept.mime == mime and kept.data == data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_kept_or_refused_never_crash(data: bytes) -> None:
    try:
        sniff(data)
        check(data, Limits(max_unzipped_bytes=1_000_000))
    except MediaRefused:
        pass


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=4, max_value=5000), st.binary(min_size=1, max_size=64))
def test_a_damaged_photo_is_refused_or_kept_clean(cut: int, junk: bytes) -> None:
    sent = samples.photo(gps=True)
    damaged = sent[:cut] + junk + sent[cut + len(junk):]
    try:
        kept = check(damaged)
    except MediaRefused:
        return
    assert samples.GPS_IFD not in _exif(kept.data)


@pytest.fixture(params=["folder", "database"])
def media_settings(request, ext):
    return dataclasses.replace(ext.settings, media=dataclasses.replace(ext.settings.media, store=request.param))


def test_each_store_keeps_bytes_once_and_gives_them_back(db_session, school, now, media_settings) -> None:
    kept = check(samples.photo())
    sid = school.school.id
    first = media.save(db_session, media_settings, kept, school_id=sid, now=now, name="门坏了.jpeg")
    second = media.save(db_session, media_settings, kept, school_id=sid, now=now)
    db_session.commit()
    assert first.sha256 == second.sha256 and first.id != second.id
    assert first.name == "门坏了.jpg", "the extension follows the sniffed type"
    assert media.read(db_session, media_settings, first) == kept.data
    if media_settings.media.store == "database":
        assert db_session.query(media.MediaBlob).filter_by(sha256=first.sha256).count() == 1
    else:
        path = media.store_for(media_settings).path(first.sha256)
        assert path.read_bytes() == kept.data and len(list(path.parent.iterdir())) == 1


def test_the_school_quota_refuses_more(db_session, school, now, media_settings) -> None:
    tight = dataclasses.replace(media_settings, media=dataclasses.replace(media_settings.media,
                                                                           school_quota_bytes=300))
    media.save(db_session, tight, check(samples.pdf()), school_id=school.school.id, now=now)
    with pytest.raises(MediaRefused) as refused:
        media.save(db_session, tight, check(samples.pdf()), school_id=school.school.id, now=now)
    assert refused.value.reason == "quota"


def test_attachments_of_long_closed_tickets_are_purged(db_session, school, now, media_settings, caplog) -> None:
    from models import ticket_service

    ticket: Ticket = ticket_service.open_ticket(
        db_session, school=school.school, kind="complaint", category="facilities", urgency="normal",
        text="厕所门坏了", now=now, tz="Asia/Shanghai", student=school.students["张小明"])
    kept = check(samples.photo())
    row = media.save(db_session, media_settings, kept, school_id=school.school.id, now=now)
    media.attach_to_ticket(db_session, [row], ticket, now)
    assert [e.action for e in ticket.events][-1] == "attachment"
    ticket.state, ticket.closed_at = "closed", now - dt.timedelta(days=400)
    db_session.flush()
    with caplog.at_level("INFO"):
        counts = media.purge_expired(db_session, media_settings, now)
    assert counts == {"attachments": 1, "blobs": 1}
    assert media.read(db_session, media_settings, row) is None
    assert media.store_for(media_settings).get(db_session, row.sha256) is None
    assert media.purge_expired(db_session, media_settings, now) == {"attachments": 0, "blobs": 0}


def test_the_purge_job_runs_under_the_scheduler(ext, db_session, school, now, caplog) -> None:
    from models import ticket_service
    from scheduler.jobs import purge_media

    ticket = ticket_service.open_ticket(
        db_session, school=school.school, kind="complaint", category="facilities", urgency="normal",
        text="厕所门坏了", now=now, tz="Asia/Shanghai", student=school.students["张小明"])
    row = media.save(db_session, ext.settings, check(samples.photo()), school_id=school.school.id, now=now)
    media.attach_to_ticket(db_session, [row], ticket, now)
    ticket.state, ticket.closed_at = "closed", now
    db_session.commit()
    assert purge_media(ext, now + dt.timedelta(days=364)).results == {"purge_media": 0}, "kept for a year"
    with caplog.at_level("INFO", logger="models.media"):
        assert purge_media(ext, now + dt.timedelta(days=366)).results == {"purge_media": 1}
    assert "1 attachments" in caplog.text and row.sha256 not in caplog.text
