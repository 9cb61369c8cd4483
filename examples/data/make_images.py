#!/usr/bin/env python3
"""Writes the example images: example.png and example.jpg (160 x 120).

The picture is a small drawn scene - a red house with a brown roof and a
door on green hills, under a blue sky with a yellow sun - so a vision model
has something real to describe. Only the standard library is used: the PNG
is written with zlib, the JPEG by the small baseline encoder below (JFIF,
8-bit, YCbCr 4:4:4, the standard Huffman tables of ITU T.81 Annex K).

    python3 examples/data/make_images.py [OUTPUT_FOLDER]

The output is deterministic: running it again gives the same bytes.
"""

import math
import pathlib
import struct
import sys
import zlib

WIDTH, HEIGHT = 160, 120


# --------------------------------------------------------------------------
# The scene
# --------------------------------------------------------------------------

def scene():
    """Rows of (r, g, b) tuples."""
    sun_x, sun_y, sun_r = 128, 26, 14
    rows = []
    for y in range(HEIGHT):
        row = []
        for x in range(WIDTH):
            # sky: deeper blue at the top
            t = y / HEIGHT
            pixel = (int(70 + 90 * t), int(130 + 80 * t), 235)
            # sun with a soft rim
            d = math.hypot(x - sun_x, y - sun_y)
            if d <= sun_r:
                pixel = (255, 215, 40)
            elif d <= sun_r + 2:
                pixel = (250, 235, 150)
            # rolling green hills
            ground = 82 + 7 * math.sin(x_to_angle(x))
            if y >= ground:
                shade = min(1.0, (y - ground) / 40)
                pixel = (int(60 - 25 * shade), int(170 - 50 * shade), int(60 - 25 * shade))
            # the house: walls, roof, door, window
            if 40 <= x < 88 and 70 <= y < 104:
                pixel = (200, 40, 35)
                if 58 <= x < 70 and 84 <= y < 104:
                    pixel = (110, 70, 30)           # door
                elif 74 <= x < 84 and 76 <= y < 86:
                    pixel = (170, 220, 250)         # window
                elif 44 <= x < 54 and 76 <= y < 86:
                    pixel = (170, 220, 250)         # window
            roof_top, roof_base = 48, 70
            if roof_top <= y < roof_base:
                half = (y - roof_top) * 30 / (roof_base - roof_top)
                if abs(x - 64) <= half:
                    pixel = (120, 65, 35)
            row.append(pixel)
        rows.append(row)
    return rows


def x_to_angle(x):
    return x / WIDTH * 2 * math.pi * 1.5


# --------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------

def png(rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = bytearray()
    for row in rows:
        raw.append(0)  # filter: none
        for r, g, b in row:
            raw += bytes((r, g, b))
    header = struct.pack(">IIBBBBB", len(rows[0]), len(rows), 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


# --------------------------------------------------------------------------
# Baseline JPEG
# --------------------------------------------------------------------------

# Zigzag order: ZIGZAG[k] is the natural (row-major) index of the k-th coefficient.
ZIGZAG = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]

# Annex K.1 quantization tables (natural order).
LUMA_Q = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]
CHROMA_Q = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
] + [99] * 32

# Annex K.3 Huffman tables: (code counts for lengths 1..16, symbols).
DC_LUMA = ([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], list(range(12)))
DC_CHROMA = ([0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], list(range(12)))
AC_LUMA = ([0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D], bytes.fromhex(
    "01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282"
    "090a161718191a25262728292a3435363738393a434445464748494a535455565758595a"
    "636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4"
    "a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3"
    "e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa"))
AC_CHROMA = ([0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77], bytes.fromhex(
    "000102031104052131061241510761711322328108144291a1b1c109233352f0156272d1"
    "0a162434e125f11718191a262728292a35363738393a434445464748494a535455565758"
    "595a636465666768696a737475767778797a82838485868788898a92939495969798999a"
    "a2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9da"
    "e2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa"))


def huffman_codes(table):
    """symbol -> (code, length), assigned canonically (Annex C)."""
    counts, symbols = table
    assert sum(counts) == len(symbols)
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(counts[length - 1]):
            codes[symbols[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def scaled_table(base, quality):
    """The libjpeg quality scaling of a base table."""
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (q * scale + 50) // 100)) for q in base]


# cos((2x + 1) u pi / 16) with the DCT's normalisation folded in.
COS = [[(math.sqrt(0.5) if u == 0 else 1.0) * math.cos((2 * x + 1) * u * math.pi / 16) / 2
        for x in range(8)] for u in range(8)]


def fdct(block):
    """Forward 8x8 DCT of 64 level-shifted samples (row-major)."""
    tmp = [0.0] * 64
    for y in range(8):
        row = block[y * 8:y * 8 + 8]
        for u in range(8):
            c = COS[u]
            tmp[y * 8 + u] = sum(row[x] * c[x] for x in range(8))
    out = [0.0] * 64
    for u in range(8):
        for v in range(8):
            c = COS[v]
            out[v * 8 + u] = sum(tmp[y * 8 + u] * c[y] for y in range(8))
    return out


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, code, length):
        self.acc = (self.acc << length) | code
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing
        self.acc &= (1 << self.n) - 1

    def flush(self):
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1 bits


def magnitude(v):
    """(category, bits) of a coefficient as the entropy coder writes it."""
    a = abs(v)
    size = a.bit_length()
    bits = v if v >= 0 else v + (1 << size) - 1
    return size, bits


def jpeg(rows, quality=90):
    h, w = len(rows), len(rows[0])
    assert w % 8 == 0 and h % 8 == 0, "the encoder handles whole 8x8 blocks only"
    qtables = [scaled_table(LUMA_Q, quality), scaled_table(CHROMA_Q, quality)]
    planes = [[], [], []]
    for row in rows:
        for r, g, b in row:
            planes[0].append(0.299 * r + 0.587 * g + 0.114 * b)
            planes[1].append(-0.168736 * r - 0.331264 * g + 0.5 * b + 128)
            planes[2].append(0.5 * r - 0.418688 * g - 0.081312 * b + 128)
    dc_codes = [huffman_codes(DC_LUMA), huffman_codes(DC_CHROMA)]
    ac_codes = [huffman_codes(AC_LUMA), huffman_codes(AC_CHROMA)]
    bits = BitWriter()
    previous_dc = [0, 0, 0]
    for by in range(0, h, 8):
        for bx in range(0, w, 8):
            for comp in range(3):  # one MCU: Y, Cb, Cr blocks (4:4:4)
                t = 0 if comp == 0 else 1
                plane = planes[comp]
                block = [plane[(by + y) * w + bx + x] - 128 for y in range(8) for x in range(8)]
                coef = fdct(block)
                q = [int(round(coef[ZIGZAG[k]] / qtables[t][ZIGZAG[k]])) for k in range(64)]
                diff = q[0] - previous_dc[comp]
                previous_dc[comp] = q[0]
                size, value = magnitude(diff)
                bits.write(*dc_codes[t][size])
                if size:
                    bits.write(value, size)
                run = 0
                for k in range(1, 64):
                    if q[k] == 0:
                        run += 1
                        continue
                    while run > 15:
                        bits.write(*ac_codes[t][0xF0])  # ZRL: sixteen zeros
                        run -= 16
                    size, value = magnitude(q[k])
                    bits.write(*ac_codes[t][(run << 4) | size])
                    bits.write(value, size)
                    run = 0
                if run:
                    bits.write(*ac_codes[t][0x00])  # EOB
    bits.flush()

    def segment(marker, payload):
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    out = bytearray(b"\xff\xd8")                                            # SOI
    out += segment(0xE0, b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0))
    for i, table in enumerate(qtables):                                      # DQT
        out += segment(0xDB, bytes([i]) + bytes(table[ZIGZAG[k]] for k in range(64)))
    out += segment(0xC0, struct.pack(">BHHB", 8, h, w, 3)                    # SOF0
                   + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]))
    for cls_id, table in ((0x00, DC_LUMA), (0x10, AC_LUMA), (0x01, DC_CHROMA), (0x11, AC_CHROMA)):
        out += segment(0xC4, bytes([cls_id]) + bytes(table[0]) + bytes(table[1]))  # DHT
    out += segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]))  # SOS
    out += bits.out
    out += b"\xff\xd9"                                                      # EOI
    return bytes(out)


def main(argv):
    folder = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    rows = scene()
    for name, data in (("example.png", png(rows)), ("example.jpg", jpeg(rows))):
        (folder / name).write_bytes(data)
        print(f"wrote {folder / name} ({len(data)} bytes, {WIDTH}x{HEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
