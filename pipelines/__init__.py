"""Pipeline definitions: short, readable compositions of library calls.

Each pipeline module exposes ``plan(config) -> Plan`` and ``run(config, plan, outdir)``.
Installed as ``eo_drr.pipelines``; the CLI looks pipelines up by the ``pipeline:`` key of a job.
"""
