-- The documents of every published anneal probe: held-out losses per arm, and the candidate items trained on.
with

source as (

    {{ committed_rows('studies', 'anneal_documents', 'object') }}

),

renamed as (

    select
        run_id as probe_run_id,
        arm,
        use,
        heldout_set,
        sample_id,
        item_id,
        discipline_id,
        cast(difficulty as integer) as difficulty,
        strategy,
        cast(tokens as bigint) as tokens,
        cast(loss_before as double) as loss_before,
        cast(loss_after as double) as loss_after

    from source

)

select * from renamed
