"""Writes the spreadsheet fixtures of EsteiraSheetsTests with tools other than Esteira's reader:
openpyxl (a real spreadsheet writer), msoffcrypto-tool (Office's password encryption), xlwt (an
Excel 97-2003 XLS writer) and Python's zipfile (hand-written sheet XML for shapes openpyxl never
writes).

    .venv/bin/pip install openpyxl msoffcrypto-tool xlwt
    .venv/bin/python Tests/EsteiraSheetsTests/Fixtures/make_fixtures.py

The expected values in SheetReaderTests.swift are the values written here."""
import datetime
import io
import os
import struct
import zipfile
import zlib

import msoffcrypto
import msoffcrypto.format.ooxml
import openpyxl
import xlwt

here = os.path.dirname(os.path.abspath(__file__))


def mapped():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Dívidas"
    ws.append(["Código", "Cliente", "CPF do devedor", "Valor Original", "Vencimento", "E-mail"])
    # Row 2: everything typed as Excel would: a number amount, a real date.
    ws.append(["A-1", "José da Silva", "529.982.247-25", 1234.56, datetime.date(2024, 3, 15), "jose@exemplo.com.br"])
    # Row 3: a float whose binary value is 0.30000000000000004; a name with ; and " and a line break.
    ws.append(["A-2", 'Maria "Mia"; Souza\nFilha', "11144477735", 0.1 + 0.2, datetime.date(2023, 12, 31), None])
    # Row 4: three decimals (must not become 1234 reais); the amount and date typed as text.
    ws.append(["A-3", "Ana", "52998224725", 1.234, "15/03/2024", None])
    # Row 5 left empty; row 6: amount as Brazilian text, an integer amount elsewhere.
    ws.cell(row=6, column=1, value="A-4")
    ws.cell(row=6, column=2, value="Bruno")
    ws.cell(row=6, column=3, value="11.222.333/0001-81")
    ws.cell(row=6, column=4, value="1.234,56")
    ws.cell(row=6, column=5, value=datetime.date(2020, 2, 29))
    ws.append(["A-5", "Carla", "11144477735", 150, datetime.date(1999, 12, 31), None])
    for row in range(2, 8):
        ws.cell(row=row, column=5).number_format = "dd/mm/yyyy"
    wb.save(os.path.join(here, "mapped.xlsx"))
    return os.path.join(here, "mapped.xlsx")


def handwritten():
    """Inline strings, formula strings, booleans, E notation, the 1904 date system, a namespace
    prefix, entities and an OOXML escape: shapes other writers produce."""
    content_types = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"""
    rels = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
    workbook = """<?xml version="1.0" encoding="UTF-8"?>
<x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:workbookPr date1904="1"/><x:sheets><x:sheet name="Plan1" sheetId="7" r:id="rIdSheet"/></x:sheets></x:workbook>"""
    workbook_rels = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdSheet" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/data.xml"/></Relationships>"""
    styles = """<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="[$-416]d\\-mmm\\-yyyy;@"/></numFmts><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="4"/></cellXfs></styleSheet>"""
    sheet = """<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>id</x:t></x:is></x:c><x:c r="B1" t="inlineStr"><x:is><x:r><x:t>no</x:t></x:r><x:r><x:t xml:space="preserve">me</x:t></x:r></x:is></x:c><x:c r="C1" t="inlineStr"><x:is><x:t>valor</x:t></x:is></x:c><x:c r="D1" t="inlineStr"><x:is><x:t>data</x:t></x:is></x:c></x:row>
<x:row r="2"><x:c r="A2" t="str"><x:f>CONCAT("X","1")</x:f><x:v>X1</x:v></x:c><x:c r="B2" t="inlineStr"><x:is><x:t>P&amp;G &lt;Ltda&gt; &#233;_x000D_</x:t></x:is></x:c><x:c r="C2" s="2"><x:v>1.2345678909E10</x:v></x:c><x:c r="D2" s="1"><x:v>0</x:v></x:c></x:row>
<x:row r="4"><x:c r="A4" t="b"><x:v>1</x:v></x:c><x:c r="C4"><x:v>-2.5E-3</x:v></x:c><x:c r="D4" s="1"><x:v>43903.75</x:v></x:c></x:row>
<x:row r="5"><x:c t="s"><x:v>0</x:v></x:c><x:c t="s"><x:v>1</x:v></x:c><x:c><x:v>1234.5599999999999</x:v></x:c></x:row>
</x:sheetData></x:worksheet>"""
    shared = """<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>compartilhado</t></si><si><r><t>ri</t></r><r><rPr><b/></rPr><t>co</t></r><rPh sb="0" eb="1"><t>FONETICA</t></rPh></si></sst>"""
    path = os.path.join(here, "handwritten.xlsx")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        z.writestr("xl/styles.xml", styles)
        z.writestr("xl/worksheets/data.xml", sheet)
        z.writestr("xl/sharedStrings.xml", shared)


def empty():
    wb = openpyxl.Workbook()
    wb.save(os.path.join(here, "empty.xlsx"))


def encrypted(source):
    out = io.BytesIO()
    with open(source, "rb") as f:
        office = msoffcrypto.format.ooxml.OOXMLFile(f)
        office.encrypt("senha123", out)
    with open(os.path.join(here, "encrypted.xlsx"), "wb") as f:
        f.write(out.getvalue())


def corrupt(source):
    data = open(source, "rb").read()
    with open(os.path.join(here, "truncated.xlsx"), "wb") as f:
        f.write(data[: len(data) // 2])


def bomb(source):
    """A real workbook whose sheet XML is padded with 64 MiB of spaces: about 64 KiB zipped."""
    src = zipfile.ZipFile(source)
    path = os.path.join(here, "bomb.xlsx")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 << 20))
            z.writestr(item.filename, data)


def patch_part(data, name, local_at, central_at, value):
    """Writes `value` at `local_at` of every local file header (APPNOTE 4.3.7) and at `central_at`
    of every central directory header (APPNOTE 4.3.12) that names the part `name`."""
    for signature, name_length_at, name_at, at in ((b"PK\x03\x04", 26, 30, local_at), (b"PK\x01\x02", 28, 46, central_at)):
        header = data.find(signature)
        while header >= 0:
            n = struct.unpack_from("<H", data, header + name_length_at)[0]
            if data[header + name_at:header + name_at + n] == name:
                data[header + at:header + at + len(value)] = value
            header = data.find(signature, header + 4)


def lying_size(source):
    """The workbook, stored, with its workbook.xml's compressed size, in the local header and the central
    directory, set to 2 GiB - 1: more than the whole file holds. The bomb check takes its ratio to
    the claimed size, so the claim must be refused before it is believed (seen while chasing the
    fuzzer's xlsx hang, docs/security.md)."""
    # Stored, not deflated: a deflate stream ends by itself, stored bytes only where the size says.
    src = zipfile.ZipFile(source)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for item in src.infolist():
            z.writestr(item.filename, src.read(item.filename))
    data = bytearray(out.getvalue())
    patch_part(data, b"xl/workbook.xml", 18, 20, struct.pack("<I", 0x7FFFFFFF))
    with open(os.path.join(here, "lying-size.xlsx"), "wb") as f:
        f.write(data)


def endless_inflate(source):
    """The workbook with its shared strings last, as a deflate stream (RFC 1951) that does not end
    within the part: one final stored block that announces 65,535 bytes and holds 23, the last
    opening an XML comment. A reader that inflates on past the part's bytes takes the central
    directory as the comment's text and then waits at the file's end for bytes that never come
    (the fuzzer's xlsx hang, docs/security.md)."""
    src = zipfile.ZipFile(source)
    held = b"<sst><si><t>a</t><!--"
    # BFINAL 1, BTYPE 00 (stored), then LEN 65535 and its complement NLEN 0 (RFC 1951 3.2.4).
    stream = b"\x01" + struct.pack("<HH", 0xFFFF, 0x0000) + held
    name = "xl/sharedStrings.xml"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            if item.filename != name:
                z.writestr(item.filename, src.read(item.filename))
        z.writestr(zipfile.ZipInfo(name), stream, compress_type=zipfile.ZIP_STORED)
    data = bytearray(out.getvalue())
    patch_part(data, name.encode(), 8, 10, struct.pack("<H", 8))  # method 8: deflate
    with open(os.path.join(here, "endless-inflate.xlsx"), "wb") as f:
        f.write(data)


def zip64(source):
    """The workbook written with every ZIP64 field (APPNOTE 4.3.14, 4.3.15, 4.5.3), as writers of
    files past 4 GiB do: the 32-bit sizes and offsets all 0xFFFFFFFF, their values in the extra
    fields and the ZIP64 end records. It must read as the workbook does; Python's zipfile checks
    it below."""
    src = zipfile.ZipFile(source)
    full32, full16 = 0xFFFFFFFF, 0xFFFF
    body, directory = bytearray(), bytearray()
    for item in src.infolist():
        data = src.read(item.filename)
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        stored = packer.compress(data) + packer.flush()
        name = item.filename.encode()
        crc = zlib.crc32(data)
        offset = len(body)
        # Version 4.5 (ZIP64), no flags, method 8, no date.
        local_extra = struct.pack("<HHQQ", 1, 16, len(data), len(stored))
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, crc, full32, full32, len(name), len(local_extra))
        body += name + local_extra + stored
        central_extra = struct.pack("<HHQQQ", 1, 24, len(data), len(stored), offset)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, crc, full32, full32,
                                 len(name), len(central_extra), 0, 0, 0, 0, full32)
        directory += name + central_extra
    count = len(src.infolist())
    record_at = len(body) + len(directory)
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), len(body))
    locator = struct.pack("<IIQI", 0x07064B50, 0, record_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, full16, full16, full32, full32, 0)
    path = os.path.join(here, "zip64.xlsx")
    with open(path, "wb") as f:
        f.write(body + directory + record + locator + end)
    with zipfile.ZipFile(path) as check:
        assert check.testzip() is None
        assert all(check.read(i.filename) == src.read(i.filename) for i in src.infolist())


def bzip2(source):
    """The workbook with every part compressed by bzip2 (method 12, APPNOTE 4.4.5), which Python's
    zipfile writes and Excel never does: a ZIP whose parts cannot be read here."""
    src = zipfile.ZipFile(source)
    with zipfile.ZipFile(os.path.join(here, "bzip2.xlsx"), "w", zipfile.ZIP_BZIP2) as z:
        for item in src.infolist():
            z.writestr(item.filename, src.read(item.filename))


def legacy():
    """An XLS (BIFF8): the standard header, two debts, one with a bad CPF (row 3)."""
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Planilha1")
    dates = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    for col, name in enumerate(["id_divida", "nome", "cpf", "valor", "vencimento"]):
        ws.write(0, col, name)
    ws.write(1, 0, "L-1"); ws.write(1, 1, "Luísa"); ws.write(1, 2, "529.982.247-25"); ws.write(1, 3, 87.65)
    ws.write(1, 4, datetime.date(2024, 5, 20), dates)
    ws.write(2, 0, "L-2"); ws.write(2, 1, "Marcos"); ws.write(2, 2, "529.982.247-26"); ws.write(2, 3, 10)
    ws.write(2, 4, datetime.date(2024, 5, 21), dates)
    wb.save(os.path.join(here, "legacy.xls"))


if __name__ == "__main__":
    source = mapped()
    handwritten()
    empty()
    encrypted(source)
    corrupt(source)
    bomb(source)
    lying_size(source)
    endless_inflate(source)
    zip64(source)
    bzip2(source)
    legacy()
    for name in sorted(os.listdir(here)):
        print(name, os.path.getsize(os.path.join(here, name)))
