{#-
  The lake's commit protocol (docs/architecture.md, "The commit protocol"): a part is read only once the marker that commits it
  exists. Every model that reads a lake source reads it through committed_rows, naming the table's commit rule; the
  rule is the one the lake contract (boostqa/lake/tables.py) gives the table, and tests/boostqa/lake/test_tables.py
  keeps the two equal. Markers are found by listing (DuckDB's glob), so a reader needs no GetObject on them.
-#}

{% macro lake_uri(path) -%}
s3://{{ env_var('BOOSTQA_LAKE_BUCKET', 'boostqa') }}/{{ path }}
{%- endmacro %}


{#- a subquery, so the calling model may add its own where clause -#}
{% macro committed_rows(source_name, table_name, rule) -%}
select * from (
    select * from {{ source(source_name, table_name) }}
    {%- if rule != 'object' %}
    where {{ lake_commit_condition(rule) }}
    {%- endif %}
)
{%- endmacro %}


{#- part-<n> of run R is committed by <root>/run_id=R/_SUCCESS.<n> (its shard wrote outputs, quarantine, ledger) -#}
{% macro _shard_committed(root) -%}
(
    '{{ lake_uri(root) }}/run_id=' || regexp_extract(filename, '/run_id=([^/]+)/', 1)
        || '/_SUCCESS.' || regexp_extract(filename, '/part-([0-9]+)\.parquet$', 1)
    in (select file from glob('{{ lake_uri(root) }}/run_id=*/_SUCCESS.*'))
)
{%- endmacro %}


{#- the seed partition's manifest, written after its parts and its quarantine parts -#}
{% macro _seed_manifests() -%}
(select file from glob('{{ lake_uri('raw/seeds') }}/source=*/ingest_date=*/_manifest.json'))
{%- endmacro %}


{% macro lake_commit_condition(rule) -%}
{%- if rule.startswith('shard_marker:') -%}
{{ _shard_committed(rule.split(':')[1]) }}
{%- elif rule == 'ledger_shard_marker' -%}
{#- a ledger part is committed by the shard marker of the stage that wrote it (STAGE_MARKER_ROOTS) -#}
(
    (regexp_extract(filename, '/stage=([^/]+)/', 1) = 'annotate' and {{ _shard_committed('annotations') }})
    or (regexp_extract(filename, '/stage=([^/]+)/', 1) = 'synthesize' and {{ _shard_committed('qa') }})
)
{%- elif rule == 'qc_marker' -%}
(
    '{{ lake_uri('qc/done') }}/run_id=' || regexp_extract(filename, '/run_id=([^/]+)/', 1) || '/_SUCCESS'
    in (select file from glob('{{ lake_uri('qc/done') }}/run_id=*/_SUCCESS'))
)
{%- elif rule == 'seed_manifest' -%}
(regexp_replace(filename, '[^/]+$', '') || '_manifest.json' in {{ _seed_manifests() }})
{%- elif rule == 'ingest_quarantine_manifest' -%}
(
    '{{ lake_uri('raw/seeds') }}/source=' || regexp_extract(filename, '/source=([^/]+)/', 1)
        || '/ingest_date=' || regexp_extract(filename, '/run_id=ingest_([^/]+)/', 1) || '/_manifest.json'
    in {{ _seed_manifests() }}
)
{%- elif rule == 'mixture_manifest' -%}
(
    '{{ lake_uri('mixtures') }}/' || regexp_extract(filename, '/run_id=([^/]+)/', 1) || '/manifest.json'
    in (select file from glob('{{ lake_uri('mixtures') }}/*/manifest.json'))
)
{%- else -%}
{{ exceptions.raise_compiler_error("unknown lake commit rule '" ~ rule ~ "' (see boostqa/lake/commits.py)") }}
{%- endif -%}
{%- endmacro %}
