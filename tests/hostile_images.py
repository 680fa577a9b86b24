"""Hostile uploads, written chunk by chunk so that making them costs little memory: PNGs that
are small on the wire and expensive to open or decode. Used by the tests and the bench."""

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, colour: int, depth: int, rows, extra=()) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for row in rows) + packer.flush()
    return b"".join(
        [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header), *extra, _chunk(b"IDAT", idat)]
        + [_chunk(b"IEND", b"")]
    )


def black_png(width: int, height: int) -> bytes:
    """An RGB picture of zeros: about 3 KB per megapixel on the wire, 3 MB decoded."""
    row = b"\0" * (1 + 3 * width)
    return _png(width, height, colour=2, depth=8, rows=(row for _ in range(height)))


def one_bit_png(side: int) -> bytes:
    """Black and white, one bit a pixel: decoded to RGB it grows 24 times."""
    row = b"\0" * (1 + (side + 7) // 8)
    return _png(side, side, colour=0, depth=1, rows=(row for _ in range(side)))


def _tiny(extra) -> bytes:
    return _png(1, 1, colour=2, depth=8, rows=[b"\0\0\0\0"], extra=extra)


def ztxt_flood(chunks: int = 60, inflated: int = 900 * 1024) -> bytes:
    """A 1-pixel PNG with compressed text chunks, a few KB each, inflating to ~1 MB each."""
    text = zlib.compress(b"A" * inflated, 9)
    return _tiny([_chunk(b"zTXt", b"Comment%d\0\0" % n + text) for n in range(chunks)])


def text_flood(chunks: int = 40, size: int = 200 * 1024) -> bytes:
    """Many plain text chunks, each under the per-chunk limit, together megabytes."""
    return _tiny([_chunk(b"tEXt", b"Comment%d\0" % n + b"A" * size) for n in range(chunks)])


def iccp_bomb(inflated: int = 900 * 1024) -> bytes:
    """A colour profile that inflates to nearly a megabyte (real ones are a few KB)."""
    return _tiny([_chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"\0" * inflated, 9))])


HOSTILE = {
    "black PNG, 40 MP": lambda: black_png(6320, 6320),
    "black PNG, 14 MP": lambda: black_png(4320, 3240),
    "1-bit PNG, 36 MP": lambda: one_bit_png(6000),
    "zTXt flood, 54 MB": ztxt_flood,
    "tEXt flood, 8 MB": text_flood,
    "iCCP, 900 KB": iccp_bomb,
}
