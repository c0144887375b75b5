"""MARC import and export: ISO 2709 / MARCXML / ИРБИС text in RUSMARC, UNIMARC and MARC21.

Modules: `iso2709` (framing, directory parsing, writing), `encoding` (per-record detection),
`marcxml` and `irbis_text` (the other containers), `reader` (one entry point over all three),
`formats` (container and format detection), `mapping` and `holdings` (MARC → Record/Copy
columns), `importer` (batched, atomic writes), `export` (ISO 2709 and MARCXML output).
See docs/IMPORT.md for the rules.
"""
