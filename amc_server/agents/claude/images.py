"""The bytes of one image in a Claude Code transcript, for `GET /api/conversation/<id>/image`.

Place in the flow: agents/claude/transcript.py keeps images as placeholders (`{media_type, bytes}`) and
remembers where the record holding them ends (`image_lines`); when the page asks for one, this
module reads that one line again (backwards from its end, so a 100 MB transcript costs one line),
finds the image block and decodes it. The conversation JSON never carries image data.

What leaves here is checked, because a transcript is hostile input: only PNG, JPEG, GIF and WebP,
the declared type must match the bytes' signature, the base64 must decode, and the image must be
at most MAX_IMAGE_BYTES. Anything else is an error for a person (errors.py), never a 500.
"""
import base64
import binascii
from typing import Any, Dict, List, Tuple

from ... import store
from ...errors import BadRequest, NotFound, PayloadTooLarge

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_LINE_BYTES = 64 * 1024 * 1024   # as agents/base.py: a longer line was never read
CHUNK = 1024 * 1024
# The image types the page may show, and how each one's bytes begin.
SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def read_line(path: str, end: int) -> bytes:
    """Return the transcript line that ends at byte `end` (its newline, if any, excluded)."""
    try:
        with store.open_read(path) as f:  # a regular file: a FIFO would block
            f.seek(0, 2)
            if end <= 0 or end > f.tell():
                raise NotFound("the transcript changed since it was read; reload the conversation")
            stop = end - 1 if _byte_at(f, end - 1) == b"\n" else end
            start, pieces = stop, []
            while start > 0:
                step = min(CHUNK, start)
                f.seek(start - step)
                chunk = f.read(step)
                cut = chunk.rfind(b"\n")
                if cut >= 0:
                    pieces.append(chunk[cut + 1:])
                    start = start - step + cut + 1
                    break
                pieces.append(chunk)
                start -= step
                if stop - start > MAX_LINE_BYTES:
                    raise PayloadTooLarge("the record holding this image is over %d MB"
                                          % (MAX_LINE_BYTES // 2 ** 20))
            return b"".join(reversed(pieces))
    except OSError as e:
        raise NotFound("cannot read the transcript: %s" % e.strerror) from None


def _byte_at(f: Any, pos: int) -> bytes:
    f.seek(pos)
    return f.read(1)


def image_blocks(record: Dict[str, Any], call_id: str = "") -> List[Dict[str, Any]]:
    """Return the image blocks of a prompt record, or of one tool result in it, in order."""
    message = record.get("message") if isinstance(record.get("message"), dict) else {}
    blocks = _list(message.get("content"))
    attachment = record.get("attachment")
    if record.get("type") == "attachment" and isinstance(attachment, dict):
        blocks = _list(attachment.get("prompt"))  # a prompt queued while Claude worked
    if call_id:
        results = [b for b in blocks if b.get("type") == "tool_result"
                   and b.get("tool_use_id") == call_id]
        blocks = _list(results[0].get("content")) if results else []
    return [b for b in blocks if b.get("type") == "image"]


def _list(content: Any) -> List[Dict[str, Any]]:
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def decode(block: Dict[str, Any]) -> Tuple[str, bytes]:
    """Return (media type, bytes) of an image block, checked; raise ApiError otherwise."""
    source = block.get("source") if isinstance(block.get("source"), dict) else {}
    media_type = str(source.get("media_type") or "").lower()
    if source.get("type") != "base64" or not isinstance(source.get("data"), str):
        raise NotFound("this image is not stored in the transcript (only base64 images are)")
    if media_type not in SIGNATURES:
        raise BadRequest("images of type %r are not shown (only %s)"
                         % (media_type[:60], ", ".join(sorted(SIGNATURES))))
    data = source["data"]
    if len(data) * 3 // 4 > MAX_IMAGE_BYTES:
        raise PayloadTooLarge("the image is over %d MB" % (MAX_IMAGE_BYTES // 2 ** 20))
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the image's data is not valid base64") from None
    if not raw.startswith(SIGNATURES[media_type]) or \
            (media_type == "image/webp" and raw[8:12] != b"WEBP"):
        raise BadRequest("the image's bytes are not %s" % media_type)
    return media_type, raw


def extract(path: str, end: int, index: int, call_id: str = "") -> Tuple[str, bytes]:
    """Return (media type, bytes) of image `index` of the record ending at `end` (of the tool
    result of `call_id` in it, when given)."""
    try:
        record = store.loads(read_line(path, end))
    except ValueError:
        raise NotFound("the transcript changed since it was read; reload the conversation") \
            from None
    blocks = image_blocks(record, call_id) if isinstance(record, dict) else []
    if not 0 <= index < len(blocks):
        raise NotFound("no image %d there" % index)
    return decode(blocks[index])

