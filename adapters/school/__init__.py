"""School adapter: admission-register events to statutory returns (issue 5).

Entry points: `app.build_school` (composition on a `broker.app.Container`), `SchoolAdapter`
(`submit` an event, `handle` a message, `sweep` deadlines, list `deletions`), `Importer`
(a CSV export or a CTF file), `Watcher` (a drop directory) and the typer app `cli.school_app`.
The rules are in `rules` (pure), the file formats in `csv_format` and `ctf`, and
`docs/school-csv.md` documents all of it for schools and integrators.
"""
