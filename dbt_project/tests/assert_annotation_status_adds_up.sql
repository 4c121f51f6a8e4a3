-- annotated + quarantined + pending = every distinct seed.
select (select sum(seeds) from {{ ref('fct_annotation_status') }}) as by_status,
       (select count(*) from {{ ref('int_seeds_deduplicated') }}) as seeds
where (select sum(seeds) from {{ ref('fct_annotation_status') }}) <> (select count(*) from {{ ref('int_seeds_deduplicated') }})
