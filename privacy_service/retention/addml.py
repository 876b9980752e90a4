"""An archive extract in the prescribed format: ADDML 8.2 describing delimited UTF-8 flat files.

Arkivverket's Arkade 5 tests a "fagsystem" extract by its `addml.xml`: one `flatFile` per table (its file
name, record count and SHA-256 checksum as properties), a `flatFileDefinition` naming every field and its
type, a delimited `flatFileType` and the `fieldTypes` used. The `reference` says who created the records (the
controller's name and organisation number), from which system, over which period, and when the extract was
made.
Plain data in, files out: the caller reads the rows and records the deposit.
"""

from __future__ import annotations

import csv
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

NS = "http://www.arkivverket.no/standarder/addml"
DATA_TYPES = {int: "integer", bool: "boolean", datetime: "dateTime", date: "date"}
FORMATS = {"date": "yyyy-MM-dd", "dateTime": "yyyy-MM-ddTHH:mm:ss", "boolean": "true/false"}


@dataclass
class Extract:
    """What the addml.xml describes: the archive creator, the system, the table and the rows written."""

    creator_name: str
    creator_org_number: str
    system: str
    table: str
    columns: list[tuple[str, str]]  # (name, ADDML data type)
    created_at: datetime
    period: tuple[str | None, str | None] = (None, None)
    rows: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # name, sha256, bytes


def data_type(python_type: type | None) -> str:
    """The ADDML data type of a column's Python type (bool before int: a bool is an int)."""
    for kind in (bool, int, datetime, date):
        if python_type is not None and issubclass(python_type, kind):
            return DATA_TYPES[kind]
    return "string"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_rows(path: Path, rows: Iterable[tuple[Any, ...]]) -> tuple[int, dict[str, Any]]:
    """Write rows as ';'-separated UTF-8 with CRLF and '"' quoting; return the count and the file's entry."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", quotechar='"', lineterminator="\r\n")
        for row in rows:
            writer.writerow([_text(v) for v in row])
            count += 1
    data = path.read_bytes()
    return count, {"name": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _property(parent: ET.Element, name: str, value: str | None = None) -> ET.Element:
    prop = _el(parent, "property", name=name)
    if value is not None:
        _el(prop, "value", value)
    return prop


def _additional(parent: ET.Element, name: str, values: dict[str, str | None]) -> None:
    element = _el(parent, "additionalElement", name=name)
    props = _el(element, "properties")
    for key, value in values.items():
        _property(props, key, value or "")


def addml_tree(extract: Extract) -> ET.ElementTree:
    """The addml.xml of one table's extract."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}addml")
    dataset = _el(root, "dataset", name=f"{extract.system}.{extract.table}")
    reference = _el(dataset, "reference")
    context = _el(_el(reference, "context"), "additionalElements")
    _additional(
        context, "recordCreator", {"name": extract.creator_name, "orgNumber": extract.creator_org_number}
    )
    _additional(context, "systemName", {"name": extract.system})
    _additional(context, "archivalPeriod", {"startDate": extract.period[0], "endDate": extract.period[1]})
    _additional(context, "extractionDate", {"dateTime": extract.created_at.isoformat(timespec="seconds")})
    flat_files = _el(dataset, "flatFiles")
    for entry in extract.files:
        flat = _el(
            flat_files, "flatFile", name=extract.table, definitionReference=f"{extract.table}Definition"
        )
        props = _el(flat, "properties")
        _property(props, "fileName", entry["name"])
        _property(props, "numberOfRecords", str(extract.rows))
        checksum = _el(_property(props, "checksum"), "properties")
        _property(checksum, "algorithm", "SHA-256")
        _property(checksum, "value", entry["sha256"])
    definitions = _el(flat_files, "flatFileDefinitions")
    definition = _el(
        definitions, "flatFileDefinition", name=f"{extract.table}Definition", typeReference="delimitedUtf8"
    )
    record = _el(_el(definition, "recordDefinitions"), "recordDefinition", name=f"{extract.table}Record")
    fields = _el(record, "fieldDefinitions")
    for name, kind in extract.columns:
        _el(fields, "fieldDefinition", name=name, typeReference=kind)
    _structure_types(flat_files, sorted({kind for __, kind in extract.columns}))
    ET.indent(root)
    return ET.ElementTree(root)


def _structure_types(parent: ET.Element, kinds: list[str]) -> None:
    types = _el(parent, "structureTypes")
    file_type = _el(_el(types, "flatFileTypes"), "flatFileType", name="delimitedUtf8")
    _el(file_type, "charset", "UTF-8")
    delimited = _el(file_type, "delimFileFormat")
    _el(delimited, "recordSeparator", "CRLF")
    _el(delimited, "fieldSeparatingChar", ";")
    _el(delimited, "quotingChar", '"')
    field_types = _el(types, "fieldTypes")
    for kind in kinds:
        field_type = _el(field_types, "fieldType", name=kind)
        _el(field_type, "dataType", kind)
        if kind in FORMATS:
            _el(field_type, "fieldFormat", FORMATS[kind])


def write_addml(folder: Path, extract: Extract) -> None:
    """Write addml.xml into the extract's folder."""
    addml_tree(extract).write(folder / "addml.xml", encoding="utf-8", xml_declaration=True)
