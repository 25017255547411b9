#!/usr/bin/python3
"""Reads a CSV or XLSX file with independent code (Python's csv module; zipfile plus an XML parser
for XLSX, as no XLSX reader is installed) and prints its rows as JSON:
  {"rows": [["header", ...], [cell, ...], ...]}
CSV cells are strings. XLSX cells are strings, numbers, booleans or null (an empty cell); the
sheet is xl/worksheets/sheet1.xml, strings inline (constant_memory mode) or shared.
Usage: read_table.py csv|xlsx FILE
"""
import csv
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def column_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def text_of(node):
    # A rich or plain string: the concatenation of its <t> elements, with the _xHHHH_ escapes
    # OOXML uses for control characters (e.g. _x000D_ for CR) decoded as Excel does.
    text = "".join(t.text or "" for t in node.iter("{%s}t" % NS["m"]))
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def read_xlsx(path):
    with zipfile.ZipFile(path) as z:
        bad = z.testzip()
        if bad is not None:
            raise SystemExit("corrupt member " + bad)
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ET.fromstring(z.read("xl/sharedStrings.xml"))
            shared = [text_of(si) for si in root.findall("m:si", NS)]
        rows = []
        # iterparse keeps memory flat for large sheets.
        with z.open("xl/worksheets/sheet1.xml") as f:
            for _, elem in ET.iterparse(f):
                if elem.tag != "{%s}row" % NS["m"]:
                    continue
                cells = {}
                for c in elem.findall("m:c", NS):
                    kind = c.get("t", "n")
                    v = c.find("m:v", NS)
                    if kind == "inlineStr":
                        value = text_of(c.find("m:is", NS))
                    elif kind == "s":
                        value = shared[int(v.text)]
                    elif kind == "str":
                        value = v.text or ""
                    elif kind == "b":
                        value = v.text == "1"
                    elif v is None:
                        value = None
                    else:
                        value = float(v.text)
                    cells[column_index(c.get("r"))] = value
                width = max(cells) + 1 if cells else 0
                rows.append([cells.get(i) for i in range(width)])
                elem.clear()
        return rows


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, strict=True))
    else:
        rows = read_xlsx(path)
    json.dump({"rows": rows}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
