-- One row per synthesized item the solver sampled: k answers graded against the refined answer, the solve rate and
-- the empirical difficulty band it stands for (boostqa/synthesize/solve.py), beside the annotator's label.
with

source as (

    {{ committed_rows('qa', 'solves', 'shard_marker:qa') }}

),

renamed as (

    select
        item_id,
        run_id as synthesis_run_id,
        discipline_id,
        cast(target_difficulty as integer) as target_difficulty,
        cast(labelled_difficulty as integer) as labelled_difficulty,
        cast(samples as integer) as samples,
        cast(graded as integer) as graded_samples,
        cast(solved as integer) as solved_samples,
        solve_rate,
        cast(empirical_difficulty as integer) as empirical_difficulty,
        solver_model,
        solve_prompt_version

    from source

)

select * from renamed
